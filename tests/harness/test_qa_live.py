"""`streamlab qa --live`: real sessions watching the backend's live channel (ffmpeg encoding,
origin, shield, edge) through shaped links, gated on latency; fidelity against the lab's live
mode; a bad channel answered with exit 2 and one line."""

from __future__ import annotations

import csv
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from qa_helpers import CLIP_SECONDS, MAX_HEIGHT, run_qa

from qa.backend import ManagedBackend
from qa.report import COLUMNS, LIVE_QA_COLUMNS

WATCH_S = 20.0


def test_live_sessions_pass_a_reachable_gate_on_the_channel_qa_started_and_replay_in_the_lab(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, traces: Path, prepackaged_out: Path
) -> None:
    targets = tmp_path / "qa.toml"
    targets.write_text("startup_p99_s = 5.0\nrebuffer_ratio_max = 0.2\nlatency_p95_s = 12.0\n")
    run = run_qa(
        capsys,
        prepackaged_out,
        *("--live", "qa", "--live-seconds", str(WATCH_S), "--no-decode", "--fidelity"),
        *("--traces", str(traces / "5mbit.json"), str(traces / "20mbit.json")),
        *("--sessions", "2", "--concurrency", "2", "--targets", str(targets)),
        *("--demo-seconds", CLIP_SECONDS, "--max-height", MAX_HEIGHT),
    )
    assert run.code == 0, run.stderr
    with (run.out / "sessions.csv").open() as handle:
        reader = csv.DictReader(handle)
        rows = list(reader)
    # The title columns in their places, then the live ones.
    assert tuple(reader.fieldnames or ()) == (*COLUMNS, *LIVE_QA_COLUMNS)
    assert len(rows) == 2 and {r["video_id"] for r in rows} == {"live-qa"}
    for row in rows:
        assert row["failure"] == "" and row["progress_reports"] == "0"
        # Watched for the time asked (start-up, playing and any stall add up to it).
        watched = float(row["startup_s"]) + float(row["played_s"]) + float(row["rebuffer_s"])
        assert watched == pytest.approx(WATCH_S, abs=0.5)
        # Joined three 2 s segments behind live and held it.
        assert 5.5 < float(row["latency_mean_s"]) < 8.0
        assert float(row["latency_p95_s"]) >= float(row["latency_mean_s"]) - 0.1
    summary = json.loads((run.out / "summary.json").read_text())
    assert summary["live"] == {"channel": "live-qa", "seconds_per_session": WATCH_S}
    latency = summary["targets"]["latency_p95_s"]
    assert latency["limit"] == 12.0 and latency["met"]
    assert latency["measured"] == max(float(r["latency_p95_s"]) for r in rows)
    cases = {c.get("name"): c for c in ET.parse(run.out / "junit.xml").getroot().iter("testcase")}
    assert cases["latency_p95_s"].find("failure") is None
    # Each session replayed in the lab's live mode, with the sizes the edge served.
    with (run.out / "fidelity.csv").open() as handle:
        fidelity = list(csv.DictReader(handle))
    assert {r["session"] for r in fidelity} == {"0", "1"}
    for row in fidelity:
        measured, played = row["sizes_measured"].split("/")
        assert measured == played and int(played) >= WATCH_S / 2 - 1
        assert abs(float(row["d_latency_mean_s"])) < 2.0
    assert {r["model"] for r in fidelity} == {"trace", "measured"}
    assert [f["model"] for f in summary["fidelity"]] == ["trace", "measured"]
    for model in summary["fidelity"]:
        assert model["sessions"] == 2 and model["latency_abs_s"] >= 0
    assert "fidelity (live, measured model): |d latency|" in run.stderr
    report = (run.out / "report.html").read_text()
    assert "<h2>Live latency</h2>" in report and (run.out / "figures" / "latency_cdf.png").exists()
    assert "<h2>Sim vs real fidelity (live)</h2>" in report
    assert "<h2>Progress reports</h2>" not in report  # channels have none


def test_live_sessions_play_through_every_fault_and_the_report_charges_the_stalls(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, traces: Path, prepackaged_out: Path
) -> None:
    targets = tmp_path / "qa.toml"
    # The origin stops for 5 s of a 20 s watch 6 s behind live: stalls are expected.
    targets.write_text("startup_p99_s = 5.0\nrebuffer_ratio_max = 0.5\nlatency_p95_s = 30.0\n")
    run = run_qa(
        capsys,
        prepackaged_out,
        *("--live", "qa", "--live-seconds", str(WATCH_S), "--no-decode", "--faults"),
        *("--traces", str(traces), "--sessions", "3", "--concurrency", "3", "--seed", "1"),
        *("--targets", str(targets), "--demo-seconds", CLIP_SECONDS, "--max-height", MAX_HEIGHT),
    )
    assert run.code == 0, run.stderr
    log = [json.loads(line) for line in (run.out / "faults.jsonl").read_text().splitlines()]
    assert {e["kind"] for e in log} == {
        "segment_5xx",
        "truncated_segment",
        "slow_first_byte",
        "expired_url",
        "origin_down",
        "edge_restart",
    }
    with (run.out / "sessions.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3
    for row in rows:
        assert row["failure"] == "", row
        watched = float(row["startup_s"]) + float(row["played_s"]) + float(row["rebuffer_s"])
        assert watched == pytest.approx(WATCH_S, abs=0.5)
        assert "origin_down" in row["faults"] and "edge_restart" in row["faults"]
    # The channel's manifest URL expired mid-watch: the real edge refused it, and the session
    # asked the API for a new one and watched on (no failure above).
    edge_log = (run.out / "backend" / "edge" / "logs" / "access.log").read_text()
    assert any(
        "/media/live-qa/manifest.mpd" in line and '" 403 ' in line for line in edge_log.splitlines()
    )
    report = (run.out / "report.html").read_text()
    assert "<h2>Faults</h2>" in report and "origin pid" in report


def test_a_latency_nobody_can_meet_fails_the_gate_naming_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, traces: Path, backend: ManagedBackend
) -> None:
    # One decoding session on the running backend's channel (the demo's clock).
    impossible = tmp_path / "impossible.toml"
    impossible.write_text("startup_p99_s = 5.0\nrebuffer_ratio_max = 0.2\nlatency_p95_s = 0.5\n")
    run = run_qa(
        capsys,
        tmp_path / "out",
        *("--backend", backend.api, "--live", "clock", "--live-seconds", str(WATCH_S)),
        *("--traces", str(traces / "20mbit.json"), "--sessions", "1"),
        *("--targets", str(impossible)),
    )
    assert run.code == 1, run.stderr
    assert "MISSED latency_p95_s" in run.stderr and "met    startup_p99_s" in run.stderr
    with (run.out / "sessions.csv").open() as handle:
        (row,) = list(csv.DictReader(handle))
    assert row["decoded"] == "True" and row["failure"] == "" and 0 < float(row["ttff_s"]) < 5
    cases = {c.get("name"): c for c in ET.parse(run.out / "junit.xml").getroot().iter("testcase")}
    failure = cases["latency_p95_s"].find("failure")
    assert failure is not None and "limit 0.5" in failure.get("message", "")
    assert cases["startup_p99_s"].find("failure") is None


@pytest.mark.parametrize(
    ("channel", "expected"),
    [
        ("nosuch", "--live nosuch: the backend has no live channel 'live-nosuch' on the air "
         "(channels READY: clock)"),
        ("Bad Name", "--live 'Bad Name': name 'Bad Name' must be 1-24 of a-z"),
    ],
)  # fmt: skip
def test_a_bad_channel_is_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    traces: Path,
    backend: ManagedBackend,
    channel: str,
    expected: str,
) -> None:
    run = run_qa(
        capsys,
        tmp_path / "out",
        *("--backend", backend.api, "--live", channel, "--traces", str(traces)),
    )
    assert run.code == 2
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0]


def test_a_latency_target_in_a_titles_run_is_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, traces: Path
) -> None:
    targets = tmp_path / "qa.toml"
    targets.write_text("latency_p95_s = 7.0\n")
    run = run_qa(capsys, tmp_path / "out", "--targets", str(targets), "--traces", str(traces))
    assert run.code == 2
    assert f"{targets}: latency_p95_s is a live target" in run.stderr
