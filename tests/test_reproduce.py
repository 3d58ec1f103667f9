"""Results a researcher can cite: every output records its provenance, and `streamlab
reproduce` re-runs the recorded command and checks the results byte for byte."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from simulator.synthetic_video import synthetic_video
from streamlab.provenance import PARQUET_KEY, UNKNOWN, git_state, record
from traces import synthetic
from traces.formats import sabre_json

ROOT = Path(__file__).resolve().parents[1]


def streamlab(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamlab.cli", *map(str, args)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=600,
    )


def write_inputs(root: Path, traces: int = 3) -> tuple[Path, Path]:
    """A 20-segment video and a folder of `traces` synthetic traces; (video, folder)."""
    root.mkdir(parents=True, exist_ok=True)
    video = root / "video.json"
    video.write_text(json.dumps(synthetic_video(segments=20, seed=3)))
    folder = root / "set"
    folder.mkdir()
    for trace in synthetic.builtin_set(seed=2)[:traces]:
        (folder / f"{trace.name}.json").write_text(sabre_json.dump(trace))
    return video, folder


def compare(video: Path, folder: Path, out: Path, *extra: str) -> Path:
    done = streamlab(
        "compare", "--traces", folder, "--video", video, "--abr", "bola,lolp", "--out", out, *extra
    )
    assert done.returncode == 0, done.stderr
    return out


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return write_inputs(tmp_path_factory.mktemp("inputs"))


@pytest.fixture(scope="module")
def compared(inputs: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    video, folder = inputs
    out = tmp_path_factory.mktemp("compare") / "out"
    return compare(video, folder, out, "--noise", "0.1", "--seed", "7", "--jobs", "1")


def test_a_compare_records_what_it_ran_and_read(inputs: tuple[Path, Path], compared: Path) -> None:
    video, folder = inputs
    record_ = json.loads((compared / "provenance.json").read_text())
    assert record_["kind"] == "compare"
    assert record_["args"][:2] == ["compare", "--traces"] and "--seed" in record_["args"]
    assert record_["version"] == "0.1.0"
    assert record_["python"] and record_["numpy"] and record_["pandas"]
    assert record_["seeds"] == {"noise_seed": 7, "lolp seed": 0}
    hashed = {item["path"]: (item["role"], item["sha256"]) for item in record_["inputs"]}
    files = [video, *sorted(folder.iterdir())]
    assert set(hashed) == {str(f) for f in files}
    for f in files:
        assert hashed[str(f)] == (
            "video" if f == video else "trace",
            hashlib.sha256(f.read_bytes()).hexdigest(),
        )
    report = (compared / "report.md").read_text()
    section = report[report.index("## Provenance") :]
    assert "streamlab compare --traces" in section and "noise_seed 7" in section
    assert "1 video, 3 traces" in section and "interpreted" in section


def test_reproduce_reruns_a_compare_and_finds_the_same_bytes(compared: Path) -> None:
    done = streamlab("reproduce", compared)
    assert done.returncode == 0, done.stderr
    assert "results.csv is the same, byte for byte (6 rows)" in done.stdout
    assert "warning" not in done.stderr


def test_another_streamlab_is_named_but_the_results_still_compared(
    compared: Path, tmp_path: Path
) -> None:
    copy = shutil.copytree(compared, tmp_path / "copy")
    sidecar = copy / "provenance.json"
    record_ = json.loads(sidecar.read_text())
    record_["commit"] = "0" * 40
    sidecar.write_text(json.dumps(record_))
    done = streamlab("reproduce", copy)
    assert done.returncode == 0, done.stderr
    assert f"warning: recorded with streamlab 0.1.0, commit {'0' * 40}" in done.stderr


def test_a_tampered_row_exits_1_naming_it(compared: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(compared, tmp_path / "copy")
    with (copy / "results.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    rows[3]["qoe_lin"] = str(float(rows[3]["qoe_lin"]) + 0.01)
    with (copy / "results.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    done = streamlab("reproduce", copy)
    assert done.returncode == 1, done.stderr
    line = done.stderr.strip()
    assert len(line.splitlines()) == 1 and "row 4" in line and "qoe_lin" in line
    assert f"trace {rows[3]['trace']}" in line and f"abr {rows[3]['abr']}" in line


def test_a_changed_trace_exits_2_naming_it(tmp_path: Path) -> None:
    video, folder = write_inputs(tmp_path / "inputs", traces=1)
    out = compare(video, folder, tmp_path / "out", "--no-report")
    trace = next(folder.iterdir())
    trace.write_text(trace.read_text() + "\n")  # the same pieces, other bytes: still refused
    done = streamlab("reproduce", out)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and str(trace) in lines[0] and "changed" in lines[0], done.stderr


def test_completion_order_does_not_change_a_compare(
    inputs: tuple[Path, Path], compared: Path, tmp_path: Path
) -> None:
    video, folder = inputs
    # Two workers: traces finish in whatever order, the CSV must not show it.
    parallel = compare(
        video, folder, tmp_path / "jobs2", "--noise", "0.1", "--seed", "7", "--jobs", "2"
    )
    assert (parallel / "results.csv").read_bytes() == (compared / "results.csv").read_bytes()
    done = streamlab("reproduce", parallel)
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_reproduce_reruns_a_sweep_on_a_local_cluster(
    inputs: tuple[Path, Path], tmp_path: Path
) -> None:
    video, folder = inputs
    out = tmp_path / "sweep"
    done = streamlab(
        "sweep", "--traces", folder, "--video", video, "--abr", "bola,throughput",
        "--param", "buffer_target_s=8,16", "--workers", "2", "--out", out,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    parts = sorted(out.glob("part-*.parquet"))
    assert len(parts) == 4
    for part in parts:
        record_ = json.loads(pd.read_parquet(part).attrs[PARQUET_KEY])
        assert record_["kind"] == "sweep" and "--workers" in record_["args"]
    done = streamlab("reproduce", out)
    assert done.returncode == 0, done.stderr
    assert "the sweep's results is the same, byte for byte (12 rows)" in done.stdout
    report = streamlab("report", out, "--worst", "1")
    assert report.returncode == 0, report.stderr
    page = (out / "report.md").read_text()
    assert "results recorded by | streamlab sweep --traces" in page
    assert json.loads((out / "report-provenance.json").read_text())["kind"] == "report"


def test_a_qa_output_is_refused_with_the_reason(inputs: tuple[Path, Path], tmp_path: Path) -> None:
    _, folder = inputs
    qa = record(
        "qa",
        ["qa", "--traces", str(folder), "--out", str(tmp_path)],
        seeds={"fault_seed": 0},
        inputs=[("trace", p) for p in sorted(folder.iterdir())],
        results="sessions.csv",
    )
    qa.write(tmp_path)
    done = streamlab("reproduce", tmp_path)
    assert done.returncode == 2
    assert "real time" in done.stderr and "byte for byte" in done.stderr


def test_a_folder_without_a_record_exits_2(tmp_path: Path) -> None:
    done = streamlab("reproduce", tmp_path)
    assert done.returncode == 2 and "no provenance.json" in done.stderr


def test_git_is_unknown_outside_a_checkout(tmp_path: Path) -> None:
    assert git_state(tmp_path) == (UNKNOWN, None)
    commit, dirty = git_state(ROOT)
    assert len(commit) == 40 and dirty in (True, False)
