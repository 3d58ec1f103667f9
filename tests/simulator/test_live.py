"""The lab's live mode: a video published as a live channel, watched over a trace."""

from __future__ import annotations

import csv
import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_traces import traces

from abr.manifests import parse_sabre_video
from abr.registry import BUILTIN, create
from simulator.compare import (
    EXTRA_COLUMNS,
    LIVE_COLUMNS,
    LIVE_OPTIMUM_COLUMNS,
    RESULT_COLUMNS,
    STARTUP_COLUMNS,
    LabSetup,
    run_to_csv,
)
from simulator.errors import SimulationError
from simulator.live import LiveRequestCosts, simulate_live
from simulator.live_channel import LiveChannel, LiveSetup
from simulator.report import write_report
from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.formats import sabre_json
from traces.trace import Trace

# 2 s segments, 40 of them: an 80 s channel.
VIDEO = parse_sabre_video(synthetic_video(segments=40, segment_duration_s=2.0, seed=4), source="v")


def test_the_viewer_joins_at_the_target_latency_and_holds_it_on_a_constant_link() -> None:
    setup = LiveSetup(target_latency_s=4.0)
    result = simulate_live(synthetic.constant(20_000), VIDEO, create("throughput"), setup)
    live, summary = result.live, result.summary
    assert live is not None
    channel = LiveChannel(VIDEO, setup)
    # The first segment played holds the position target seconds behind the edge at the join.
    first_number = result.metrics.buffered[0][0]
    assert first_number == math.floor((channel.lead_s - 4.0) / 2.0)
    assert summary.stall_count == 0 and summary.rebuffer_s == 0
    assert live.latency_mean_s == pytest.approx(4.0, abs=0.25)
    assert live.latency_p95_s <= 4.5
    assert summary.bitrate_kbps > 5000  # the link carries the top rung: it gets there


def test_a_viewer_who_leaves_early_is_accounted_up_to_then() -> None:
    # As a QA session stops after a fixed time: the 80 s channel, watched for 30 s.
    setup = LiveSetup(target_latency_s=4.0)
    whole = simulate_live(synthetic.constant(20_000), VIDEO, create("throughput"), setup)
    early = simulate_live(
        synthetic.constant(20_000), VIDEO, create("throughput"), setup, until_s=30.0
    )
    m = early.metrics
    assert m.startup_s is not None
    assert m.startup_s + m.played_s + m.stalled_s == pytest.approx(30.0, abs=1e-6)
    assert len(m.buffered) < len(whole.metrics.buffered)
    assert early.live is not None and early.live.latency_mean_s == pytest.approx(4.0, abs=0.25)


def test_request_costs_delay_the_start_and_the_latency_that_follows() -> None:
    # 20 ms per request beyond the trace, and the first segment's init as its own round trip:
    # the start-up grows by two overheads and one latency, and the latency it leaves inside
    # the catch-up dead band stays for the session.
    setup = LiveSetup(target_latency_s=4.0)
    link = synthetic.constant(20_000, latency_s=0.05)
    plain = simulate_live(link, VIDEO, create("throughput"), setup, until_s=30.0)
    costs = LiveRequestCosts(overhead_s=0.02, init_round_trip=True)
    costly = simulate_live(link, VIDEO, create("throughput"), setup, until_s=30.0, costs=costs)
    assert costly.summary.startup_s - plain.summary.startup_s == pytest.approx(0.09, abs=1e-6)
    assert plain.live is not None and costly.live is not None
    assert costly.live.latency_mean_s - plain.live.latency_mean_s == pytest.approx(0.09, abs=0.03)


def test_a_target_below_one_segment_waits_for_each_segment_to_be_made() -> None:
    # The playhead is inside the segment still in production: every fetch must wait for its
    # availability time (the driver raises SimulationError on any request before it).
    result = simulate_live(
        synthetic.constant(20_000), VIDEO, create("bola"), LiveSetup(target_latency_s=0.5)
    )
    live = result.live
    assert live is not None
    # A whole segment must be made before it plays: latency stays near one segment (2 s),
    # far above the 0.5 s asked for (catch-up can only shave a little off it, then stalls).
    assert 1.5 <= live.latency_mean_s <= 3.0
    for earlier, later in zip(result.metrics.downloads, result.metrics.downloads[1:], strict=False):
        assert later.requested_at >= earlier.done_at - 1e-9


def test_a_deep_drop_makes_latency_grow_or_playback_stall() -> None:
    setup = LiveSetup(target_latency_s=3.0)
    steady = simulate_live(synthetic.constant(8_000), VIDEO, create("throughput"), setup)
    # 8 Mbit/s, then 100 kbit/s (below the lowest rung, 235 kbit/s) for 20 s, then back.
    drop = Trace(
        name="drop",
        set_name="test",
        durations_s=np.array([30.0, 20.0, 600.0]),
        bandwidth_kbps=np.array([8_000.0, 100.0, 8_000.0]),
        latency_s=np.array([0.05, 0.05, 0.05]),
    )
    dropped = simulate_live(drop, VIDEO, create("throughput"), setup)
    assert steady.live is not None and dropped.live is not None
    assert dropped.summary.rebuffer_s > 1.0
    assert dropped.live.latency_p95_s > steady.live.latency_p95_s + 1.0


def test_the_live_qoe_rewards_a_better_link() -> None:
    setup = LiveSetup(target_latency_s=3.0)
    fast = simulate_live(synthetic.constant(10_000), VIDEO, create("throughput"), setup).live
    slow = simulate_live(synthetic.constant(600), VIDEO, create("throughput"), setup).live
    assert fast is not None and slow is not None
    assert fast.qoe_live > slow.qoe_live


def test_segment_duration_recuts_the_channel_at_the_same_bitrates() -> None:
    setup = LiveSetup(target_latency_s=2.0, segment_duration_s=0.5)
    result = simulate_live(synthetic.constant(20_000), VIDEO, create("throughput"), setup)
    assert result.live is not None
    assert result.live.latency_mean_s == pytest.approx(2.0, abs=0.25)
    assert result.summary.bitrate_kbps > 5000
    assert max(result.metrics.buffered_s) == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("target", "segment"), [(0.0, None), (-1.0, None), (math.inf, None), (2.0, 0.0)]
)
def test_bad_live_settings_are_refused_by_name(target: float, segment: float | None) -> None:
    with pytest.raises(ValueError, match="must be a positive number of seconds"):
        LiveSetup(target, segment)


def _write_inputs(tmp_path: Path) -> tuple[str, list[str]]:
    video = tmp_path / "video.json"
    video.write_text(json.dumps(synthetic_video(segments=20, segment_duration_s=2.0, seed=2)))
    folder = tmp_path / "set"
    folder.mkdir()
    paths = []
    for trace in (synthetic.constant(3_000), synthetic.step(5_000, 700, 20.0)):
        path = folder / f"{trace.name}.json"
        path.write_text(sabre_json.dump(trace))
        paths.append(str(path))
    return str(video), paths


def test_live_csv_has_the_vod_columns_then_the_live_ones(tmp_path: Path) -> None:
    video, paths = _write_inputs(tmp_path)
    abrs = ("throughput", "bola")
    vod_rows = run_to_csv(LabSetup(video, abrs), paths, tmp_path / "vod.csv", jobs=1)
    live = LabSetup(video, abrs, live=LiveSetup(3.0))
    live_rows = run_to_csv(live, paths, tmp_path / "live.csv", jobs=1)
    with (tmp_path / "vod.csv").open() as handle:
        vod_header = next(csv.reader(handle))
    with (tmp_path / "live.csv").open() as handle:
        live_rows_read = list(csv.DictReader(handle))
    assert vod_header == [*RESULT_COLUMNS, *EXTRA_COLUMNS, *STARTUP_COLUMNS]
    assert list(live_rows_read[0]) == [
        *RESULT_COLUMNS,
        *EXTRA_COLUMNS,
        *LIVE_COLUMNS,
        *STARTUP_COLUMNS,
    ]
    assert len(live_rows_read) == len(vod_rows) == len(live_rows) == 4
    for row in live_rows_read:
        assert 2.5 < float(row["latency_mean_s"]) <= float(row["latency_p95_s"]) + 1e-9
        assert float(row["rate_change_s"]) >= 0 and int(row["rate_changes"]) >= 0
        assert math.isfinite(float(row["qoe_live"]))


def test_live_optimal_adds_the_live_bound_and_the_report_its_gap(tmp_path: Path) -> None:
    video, paths = _write_inputs(tmp_path)
    setup = LabSetup(video, ("throughput", "lolp"), optimal=True, live=LiveSetup(3.0))
    rows = run_to_csv(setup, paths, tmp_path / "bound.csv", jobs=1)
    with (tmp_path / "bound.csv").open() as handle:
        header = next(csv.reader(handle))
    assert header == [
        *RESULT_COLUMNS,
        *EXTRA_COLUMNS,
        *LIVE_COLUMNS,
        *LIVE_OPTIMUM_COLUMNS,
        *STARTUP_COLUMNS,
    ]
    for row in rows:
        assert row["optimal_live_latency_s"] >= 3.0 - 1e-9 and row["optimal_live_rebuffer_s"] >= 0
        assert math.isfinite(row["optimal_qoe_live"])
    report = write_report(pd.DataFrame(rows), tmp_path / "report")
    markdown = report.markdown.read_text()
    assert "NQoE below the rate-1 live bound" in markdown and "never skips to live" in markdown


SHORT = parse_sabre_video(synthetic_video(segments=15, segment_duration_s=2.0, seed=5), source="s")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    trace=traces(max_pieces=20, min_piece_s=0.5),
    algorithm=st.sampled_from(sorted(BUILTIN)),
    target=st.floats(0.5, 10.0),
    segment=st.sampled_from([None, 0.5, 1.0, 3.0]),
)
def test_live_time_adds_up_and_latency_is_never_below_zero(
    trace: Trace, algorithm: str, target: float, segment: float | None
) -> None:
    result = simulate_live(trace, SHORT, create(algorithm), LiveSetup(target, segment))
    m = result.metrics
    assert m.ended_at is not None and m.startup_s is not None, m.failed_reason
    wall = m.ended_at - m.started_at
    accounted = m.startup_s + m.played_s + m.stalled_s + m.paused_s + m.seeking_s
    assert accounted == pytest.approx(wall, abs=1e-6)
    assert result.live is not None
    assert result.live.latency_mean_s >= 0 and result.live.rate_change_s <= m.played_s + 1e-9


def test_the_driver_refuses_a_request_made_before_the_segment_exists(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A channel whose manifest says each segment is ready a second before it really is: the
    # session trusts the manifest, the driver checks against the channel and refuses.
    real = LiveChannel.available_at
    monkeypatch.setattr(LiveChannel, "available_at", lambda self, n: real(self, n) + 1.0)
    with pytest.raises(SimulationError, match="before it is available"):
        simulate_live(synthetic.constant(20_000), VIDEO, create("bola"), LiveSetup(0.5))


def test_a_live_report_shows_latency_and_a_vod_one_does_not(tmp_path: Path) -> None:
    video, paths = _write_inputs(tmp_path)
    abrs = ("throughput", "bola")
    live = run_to_csv(LabSetup(video, abrs, live=LiveSetup(3.0)), paths, tmp_path / "l.csv", 1)
    vod = run_to_csv(LabSetup(video, abrs), paths, tmp_path / "v.csv", 1)
    live_report = write_report(pd.DataFrame(live), tmp_path / "live")
    vod_report = write_report(pd.DataFrame(vod), tmp_path / "vod")
    live_figures = {p.name for p in live_report.figures}
    assert {"cdf_latency_p95.png", "tradeoff_latency.png"} <= live_figures
    assert not any("latency" in p.name for p in vod_report.figures)
    markdown = live_report.markdown.read_text()
    assert "Live latency distribution" in markdown and "mean live QoE (NQoE)" in markdown


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--live"], "--live needs --target-latency"),
        (["--target-latency", "2"], "need --live"),
        (["--live", "--target-latency", "-1"], "target latency must be a positive number"),
    ],
)
def test_compare_refuses_bad_live_options_by_name(
    tmp_path: Path, options: list[str], message: str
) -> None:
    video, paths = _write_inputs(tmp_path)
    out = str(tmp_path / "out")
    command = ["compare", "--traces", *paths, "--video", video, "--out", out, *options]
    done = subprocess.run(
        [sys.executable, "-m", "streamlab.cli", *command],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out").exists()
