"""Sweeps on a real Dask cluster give the in-process results, stream to Parquet and resume."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from distributed import Client, LocalCluster

from simulator.sweep import (
    PartWriter,
    SweepError,
    SweepPlan,
    done_keys,
    in_process,
    on_dask,
    pending,
    read_results,
)
from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.formats import sabre_json


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, list[str]]:
    root = tmp_path_factory.mktemp("sweep")
    video = root / "video.json"
    video.write_text(json.dumps(synthetic_video(segments=40, seed=5)))
    folder = root / "set"
    folder.mkdir()
    paths = []
    for trace in synthetic.builtin_set(seed=2)[:5]:
        path = folder / f"{trace.name}.json"
        path.write_text(sabre_json.dump(trace))
        paths.append(str(path))
    return str(video), paths


def plan_for(video: str) -> SweepPlan:
    return SweepPlan(
        (video,), ("bola", "throughput"), {"buffer_target_s": (8.0, 16.0), "gamma_p": (5.0,)}
    )


def test_a_local_cluster_gives_the_in_process_results(
    lab: tuple[str, list[str]], tmp_path: Path
) -> None:
    video, paths = lab
    plan = plan_for(video)
    plan.validate()
    tasks = plan.tasks(paths, chunk=2)
    expected = pd.DataFrame([row for rows in in_process(tasks) for row in rows])
    writer = PartWriter(tmp_path)
    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=":0"
        ) as cluster,
        Client(cluster) as client,
    ):
        for rows in on_dask(client, tasks):
            writer.write(rows)
    got = read_results(tmp_path)
    assert len(got) == len(expected) == 2 * 2 * len(paths)
    keys = ["trace", "abr", "params"]
    pd.testing.assert_frame_equal(
        got.sort_values(keys).reset_index(drop=True)[expected.columns],
        expected.sort_values(keys).reset_index(drop=True),
    )
    assert set(got.buffer_target_s) == {8.0, 16.0}


def test_resume_skips_what_is_done(lab: tuple[str, list[str]], tmp_path: Path) -> None:
    video, paths = lab
    tasks = plan_for(video).tasks(paths, chunk=2)
    writer = PartWriter(tmp_path)
    for rows in in_process(tasks[:3]):  # an interrupted sweep
        writer.write(rows)
    left = pending(tasks, done_keys(tmp_path))
    assert (
        sum(len(t.trace_paths) for t in left)
        == sum(len(t.trace_paths) for t in tasks) - writer.sessions
    )
    for rows in in_process(left):
        writer.write(rows)
    results = read_results(tmp_path)
    assert (
        len(results)
        == len(results.drop_duplicates(["trace", "abr", "params"]))
        == 2 * 2 * len(paths)
    )


def test_unknown_parameters_are_refused_before_work(lab: tuple[str, list[str]]) -> None:
    video, _ = lab
    with pytest.raises(SweepError, match="nosuch"):
        SweepPlan((video,), ("bola",), {"nosuch": (1,)}).validate()


def test_report_turns_a_sweep_into_a_page_with_the_worst_sessions(
    lab: tuple[str, list[str]], tmp_path: Path
) -> None:
    import subprocess
    import sys

    video, paths = lab
    plan = SweepPlan((video,), ("bola",), {"buffer_target_s": (8.0, 16.0)}, optimal=True)
    writer = PartWriter(tmp_path)
    for rows in in_process(plan.tasks(paths)):
        writer.write(rows)
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-m", "streamlab.cli", "report", str(tmp_path), "--worst", "2"],
        capture_output=True,
        text=True,
        cwd=root,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "report.html").read_text()
    assert len(re.findall(r"<h2[^>]*>Worst session of bola buffer_target_s=8.0", page)) == 2
    assert "below optimum" in page and "Where the gap to the optimum goes" in page
    for image in (tmp_path / "figures").glob("*.png"):
        assert image.stat().st_size > 1000
