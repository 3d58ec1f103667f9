"""`streamlab qa` on Dask: a LocalCluster of two worker processes plays the sessions against
the real backend, each through shaped links made on its worker. The plan and the gate are the
ones a single process reaches for the same seed; the per-host limit holds, checked from each
session's own start and end; faults that need the backend qa started act from workers too."""

from __future__ import annotations

import csv
import json
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from qa_helpers import CLIP_SECONDS, MAX_HEIGHT, run_qa

from qa.backend import ManagedBackend

pytest.importorskip("distributed")

SEGMENTS = int(CLIP_SECONDS) // 2


def rows(out: Path) -> list[dict[str, str]]:
    with (out / "sessions.csv").open() as handle:
        return list(csv.DictReader(handle))


def summary(out: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((out / "summary.json").read_text())
    return data


def gate(out: Path) -> dict[str, bool]:
    """Each JUnit target case: passed or not."""
    cases = ET.parse(out / "junit.xml").getroot().iter("testcase")
    return {c.get("name", ""): c.find("failure") is None for c in cases}


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    """The test's own count, from the times summary.json gives per session."""
    return max(sum(s <= t < e for s, e in intervals) for t, _ in intervals)


def lenient(folder: Path) -> Path:
    path = folder / "lenient.toml"
    path.write_text("startup_p99_s = 6.0\nrebuffer_ratio_max = 0.5\n")
    return path


def test_two_workers_play_one_process_plan_and_gate_within_the_host_limit(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, traces: Path, backend: ManagedBackend
) -> None:
    common = (
        *("--backend", backend.api, "--traces", str(traces), "--no-decode"),
        *("--sessions", "6", "--targets", str(lenient(tmp_path))),
        *("--faults", "truncated_segment,slow_first_byte", "--seed", "3"),
    )
    one = run_qa(capsys, tmp_path / "one", *common, "--concurrency", "3")
    # Two workers asking for 2 sessions each would play 4 at once: the host allows 3.
    dask = run_qa(
        capsys,
        tmp_path / "dask",
        *common,
        *("--workers", "2", "--concurrency", "2", "--host-limit", "3"),
    )
    assert one.code == 0, one.stderr
    assert dask.code == 0, dask.stderr

    def plan(out: Path) -> list[tuple[str, ...]]:
        return [(r["session"], r["trace"], r["video_id"], r["faults"]) for r in rows(out)]

    # The same sessions, traces, titles and faults, and the same gate.
    assert plan(dask.out) == plan(one.out)
    assert {p[3] for p in plan(dask.out)} == {"", "truncated_segment", "slow_first_byte"}
    assert gate(dask.out) == gate(one.out)
    assert all(r["failure"] == "" and int(r["segments"]) == SEGMENTS for r in rows(dask.out))

    def logged(out: Path) -> set[tuple[str, int]]:
        lines = (out / "faults.jsonl").read_text().splitlines()
        return {(e["kind"], e["session"]) for e in map(json.loads, lines)}

    assert logged(dask.out) == logged(one.out)  # the proxies' logs came back from the workers

    result = summary(dask.out)
    assert result["mode"] == "dask" and summary(one.out)["mode"] == "process"
    placement = result["placement"]
    assert sorted(p["session"] for p in placement) == list(range(6))
    assert len({p["worker"] for p in placement}) == 2
    (host,) = result["hosts"]
    assert host["limit"] == 3 and host["sessions"] == 6 and host["workers"] == 2
    played = [(p["started_s"], p["ended_s"]) for p in placement]
    # Held, and binding: 4 were asked for, 3 played at once.
    assert most_at_once(played) == host["peak"] == 3
    assert "Where the sessions ran" in (dask.out / "report.html").read_text()


def test_faults_that_need_the_started_backend_act_on_sessions_played_by_workers(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, traces: Path, prepackaged_out: Path
) -> None:
    run = run_qa(
        capsys,
        prepackaged_out,
        *("--traces", str(traces), "--sessions", "3", "--no-decode"),
        *("--workers", "2", "--concurrency", "2", "--targets", str(lenient(tmp_path))),
        *("--faults", "expired_url,origin_down,edge_restart", "--seed", "1"),
        *("--demo-seconds", CLIP_SECONDS, "--max-height", MAX_HEIGHT),
    )
    assert run.code == 0, run.stderr
    played = rows(run.out)
    assert all(r["failure"] == "" and int(r["segments"]) == SEGMENTS for r in played)
    log = [json.loads(line) for line in (run.out / "faults.jsonl").read_text().splitlines()]
    assert {e["kind"] for e in log} == {"expired_url", "origin_down", "edge_restart"}
    # The process faults waited for the first wave, across both workers, to play.
    assert all("origin_down" in r["faults"] and "edge_restart" in r["faults"] for r in played)
    (faulty,) = [r for r in played if "expired_url" in r["faults"]]
    edge_log = (run.out / "backend" / "edge" / "logs" / "access.log").read_text()
    assert f"/media/{faulty['video_id']}/" in edge_log and '" 403 ' in edge_log
    # Reports the stopped origin missed were journaled on the workers and sent after it.
    assert sum(int(r["progress_replayed"]) for r in played) >= 1
    for row in played:
        journal = run.out / "progress" / f"session-{row['session']}" / "pending-progress.jsonl"
        assert journal.read_text() == ""
    assert len({p["worker"] for p in summary(run.out)["placement"]}) == 2


@pytest.fixture
def scheduler(tmp_path: Path) -> Iterator[str]:
    """An existing cluster as an operator starts one, on 127.0.0.1: `dask scheduler`, and
    `dask worker` with two processes of two threads each."""
    dask = Path(sys.executable).parent / "dask"
    info = tmp_path / "scheduler.json"
    log = (tmp_path / "dask.log").open("wb")
    common = {"stdin": subprocess.DEVNULL, "stdout": log, "stderr": log}
    at = ("--host", "127.0.0.1", "--port", "0", "--scheduler-file", str(info))
    processes = [subprocess.Popen([dask, "scheduler", *at, "--no-dashboard"], **common)]
    try:
        deadline = time.monotonic() + 60
        while not info.is_file() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = str(json.loads(info.read_text())["address"])
        shape = ("--nworkers", "2", "--nthreads", "2", "--memory-limit", "0")
        worker = [dask, "worker", address, *shape, "--no-dashboard"]
        processes.append(subprocess.Popen(worker, **common))
        yield address
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(30)
        log.close()


def test_an_existing_cluster_plays_the_sessions_one_at_a_time_per_worker(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    traces: Path,
    backend: ManagedBackend,
    scheduler: str,
) -> None:
    run = run_qa(
        capsys,
        tmp_path / "out",
        *("--backend", backend.api, "--traces", str(traces / "20mbit.json"), "--no-decode"),
        *("--sessions", "4", "--scheduler", scheduler, "--concurrency", "1"),
        *("--targets", str(lenient(tmp_path))),
    )
    assert run.code == 0, run.stderr
    assert all(r["failure"] == "" for r in rows(run.out))
    result = summary(run.out)
    assert scheduler in result["ran_on"]
    by_worker: dict[str, list[tuple[float, float]]] = {}
    for p in result["placement"]:
        by_worker.setdefault(p["worker"], []).append((p["started_s"], p["ended_s"]))
    # Each worker runs two threads, so two batches at once; --concurrency 1 still holds.
    assert sorted(map(len, by_worker.values())) in ([2, 2], [4])
    assert all(most_at_once(played) == 1 for played in by_worker.values())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--scheduler", "tcp://127.0.0.1:8786"), "needs --backend URL"),
        (("--host-limit", "2"), "--host-limit applies to Dask runs"),
        (("--workers", "2", "--host-limit", "17", "--no-decode"), "above the measured limit"),
        (("--workers", "0"), "--workers must be at least 1"),
    ],
)
def test_bad_dask_options_are_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    traces: Path,
    args: tuple[str, ...],
    expected: str,
) -> None:
    run = run_qa(capsys, tmp_path / "out", "--traces", str(traces), *args)
    assert run.code == 2
    (line,) = run.stderr.strip().splitlines()
    assert expected in line


def test_a_scheduler_nobody_listens_on_is_exit_2_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, traces: Path, backend: ManagedBackend
) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    run = run_qa(
        capsys,
        tmp_path / "out",
        *("--backend", backend.api, "--traces", str(traces), "--scheduler", address),
    )
    assert run.code == 2
    (line,) = run.stderr.strip().splitlines()
    assert address in line


def test_without_dask_a_dask_run_names_the_sweep_extra(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    traces: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # As on an install without the 'sweep' extra: `import distributed` fails.
    monkeypatch.setitem(sys.modules, "distributed", None)
    monkeypatch.delitem(sys.modules, "qa.distributed", raising=False)
    run = run_qa(capsys, tmp_path / "out", "--traces", str(traces), "--workers", "2")
    assert run.code == 2
    (line,) = run.stderr.strip().splitlines()
    assert "'sweep' extra" in line and "streamlab[sweep]" in line
