"""The lab installs alone: a fresh venv with the core package runs `compare` and `demo`, refuses
the player's and the sweep's commands in one line naming the extra, and with `[sweep]` added runs
a sweep on a local Dask cluster and reports it. Needs PyPI (or pip's cache), like `make test`."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.formats import sabre_json

ROOT = Path(__file__).resolve().parents[1]
NOT_SOURCE = ("*.so", "*.egg-info", "__pycache__", "build", "demo-results", "streamlab-data")
NOT_SOURCE += (".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", "tests", "docs")

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, cwd=cwd, timeout=timeout
    )


def pip_install(venv: Path, requirement: str, cwd: Path) -> None:
    done = run(venv / "bin/python", "-m", "pip", "install", "-q", requirement, cwd=cwd)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.fixture(scope="module")
def core_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("core-install")
    # A copy of the source, so building the wheel leaves nothing in the work tree.
    src = root / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*NOT_SOURCE))
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip_install(venv, str(src), cwd=root)
    return venv, root


@pytest.fixture(scope="module")
def lab_inputs(core_venv: tuple[Path, Path]) -> tuple[Path, Path]:
    _, root = core_venv
    video = root / "video.json"
    video.write_text(json.dumps(synthetic_video(segments=20, seed=5)))
    traces = root / "traces"
    traces.mkdir()
    for trace in (synthetic.constant(3_000, duration_s=200), synthetic.tunnel()):
        (traces / f"{trace.name}.json").write_text(sabre_json.dump(trace))
    return video, traces


def test_the_core_install_has_none_of_the_products_packages(core_venv: tuple[Path, Path]) -> None:
    venv, root = core_venv
    for module in ("PySide6", "mpv", "fastapi", "distributed", "gymnasium", "httpx"):
        done = run(venv / "bin/python", "-c", f"import {module}", cwd=root)
        assert done.returncode != 0, f"{module} came with the core install"


def test_compare_and_demo_run_on_the_core_install(
    core_venv: tuple[Path, Path], lab_inputs: tuple[Path, Path]
) -> None:
    venv, root = core_venv
    video, traces = lab_inputs
    done = run(
        venv / "bin/streamlab", "compare", "--traces", traces, "--video", video,
        "--abr", "bola,robustmpc", "--jobs", "1", "--out", root / "compare", cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = (root / "compare" / "results.csv").read_text().splitlines()
    assert len(rows) == 1 + 2 * 2  # header + 2 algorithms x 2 traces
    done = run(venv / "bin/streamlab", "demo", "--out", root / "demo", cwd=root)
    assert done.returncode == 0, done.stderr
    assert (root / "demo" / "report.html").is_file()


@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (("play", "http://127.0.0.1:9/x.m3u8", "--headless"), "player"),
        (("serve",), "backend"),
        (("qa", "--traces", "."), "qa"),
        (("sweep", "--traces", ".", "--video", "v.json", "--abr", "bola", "--out", "s"), "sweep"),
    ],
)
def test_a_command_whose_extra_is_missing_names_it_in_one_line(
    core_venv: tuple[Path, Path], args: tuple[str, ...], extra: str
) -> None:
    venv, root = core_venv
    done = run(venv / "bin/streamlab", *args, cwd=root, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"streamlab[{extra}]" in lines[0] or f"'{extra}' extra" in lines[0]


def test_with_the_sweep_extra_a_sweep_runs_on_a_local_cluster(
    core_venv: tuple[Path, Path], lab_inputs: tuple[Path, Path]
) -> None:
    venv, root = core_venv
    video, traces = lab_inputs
    pip_install(venv, f"{root / 'src'}[sweep]", cwd=root)
    out = root / "sweep"
    done = run(
        venv / "bin/streamlab", "sweep", "--traces", traces, "--video", video,
        "--abr", "bola", "--param", "buffer_target_s=12,25", "--workers", "1", "--out", out,
        cwd=root,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert list(out.glob("part-*.parquet"))
    done = run(venv / "bin/streamlab", "report", out, cwd=root)
    assert done.returncode == 0, done.stderr
