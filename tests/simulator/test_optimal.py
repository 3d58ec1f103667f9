"""The offline optimum bounds every algorithm and agrees with an independent DP (../shared)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from abr.presentation import Presentation
from abr.registry import BUILTIN, PROFILES, create
from simulator.optimal import optimal_qoe_lin, unavoidable_rebuffer_s
from simulator.run import simulate
from simulator.video import load_video
from traces import synthetic
from traces.load import load_trace
from traces.trace import Trace


@pytest.mark.parametrize("trace", synthetic.builtin_set(seed=3), ids=lambda t: t.name)
def test_no_algorithm_beats_the_optimum(video: Presentation, trace: Trace) -> None:
    profile = PROFILES["sabre"]  # abandonment off: the optimum's model
    target = profile.session.target_s(4.0)
    best = optimal_qoe_lin(trace, video, target)
    for name in BUILTIN:
        achieved = simulate(trace, video, create(name, profile), profile.session).summary
        assert achieved.qoe_lin <= best.qoe_lin + 1e-9, name
    assert len(best.renditions) == video.segment_count and best.renditions[0] == 0


@pytest.mark.parametrize("trace", synthetic.builtin_set(seed=5), ids=lambda t: t.name)
def test_no_algorithm_stalls_less_than_the_lowest_rendition(
    video: Presentation, trace: Trace
) -> None:
    profile = PROFILES["sabre"]
    target = profile.session.target_s(4.0)
    floor = unavoidable_rebuffer_s(trace, video, target)
    assert optimal_qoe_lin(trace, video, target).rebuffer_s >= floor - 1e-9
    for name in BUILTIN:
        achieved = simulate(trace, video, create(name, profile), profile.session).summary
        assert achieved.rebuffer_s >= floor - 1e-6, name


def test_a_link_below_the_lowest_bitrate_stalls_whatever_is_chosen(video: Presentation) -> None:
    lowest_kbps = video.bitrates_kbps[0]
    slow = Trace(
        "slow", "synthetic", durations_s=[30.0], bandwidth_kbps=[lowest_kbps / 2], latency_s=[0.05]
    )
    fast = Trace(
        "fast", "synthetic", durations_s=[30.0], bandwidth_kbps=[lowest_kbps * 4], latency_s=[0.05]
    )
    played_s = sum(video.segment_durations_s)
    # Half the bitrate needed: about as long stalled as played (the first segment is start-up).
    assert unavoidable_rebuffer_s(slow, video, 12.0) == pytest.approx(played_s, rel=0.1)
    assert unavoidable_rebuffer_s(fast, video, 12.0) == 0.0


def test_matches_the_independent_optimum_on_dev_traces(shared_dir: Path) -> None:
    video = load_video(shared_dir / "videos" / "bbb.json")
    anchors = pd.read_csv(shared_dir / "anchors" / "optimum-dev.csv")
    sample = anchors.groupby("set").head(2)
    for row in sample.itertuples():
        trace = load_trace(shared_dir / "traces" / row.set / row.trace)
        ours = optimal_qoe_lin(trace, video, 25.0).qoe_lin
        assert ours == pytest.approx(row.q0low_qoe_lin, abs=0.05), row.trace
