"""The offline optimum bounds every algorithm and agrees with an independent DP (../shared)."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from abr.algorithm import AbrAlgorithm
from abr.config import SessionConfig
from abr.context import AbrContext
from abr.manifests import parse_sabre_video
from abr.presentation import Presentation
from abr.registry import BUILTIN, PROFILES, create
from simulator.optimal import optima, optimal_qoe_lin, unavoidable_rebuffer_s
from simulator.run import simulate
from simulator.synthetic_video import synthetic_video
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
        assert achieved.qoe_lin_startup <= best.qoe_lin_startup + 1e-9, name
        # Every algorithm's first segment is the lowest here: the same start-up as the plan's.
        assert achieved.startup_s == pytest.approx(best.startup_s, abs=1e-9), name
    assert len(best.renditions) == video.segment_count and best.renditions[0] == 0


class Scripted(AbrAlgorithm):
    """Plays a fixed plan: the brute force's way of scoring one through the real simulator."""

    name = "scripted"

    def __init__(self, plan: tuple[int, ...]) -> None:
        self.plan = plan

    def choose(self, ctx: AbrContext) -> int:
        return self.plan[ctx.segment_index]


def test_the_optimum_of_each_metric_is_the_best_of_every_plan_the_simulator_plays() -> None:
    # Tiny enough to try every plan (3 renditions ^ 5 segments): a slow start-up link where
    # starting high pays off in QoE_lin (start-up is no stall there) but not once start-up
    # counts, so the two objectives pick different first renditions.
    video = parse_sabre_video(
        synthetic_video((300, 1200, 4000), segments=5, segment_duration_s=2.0, seed=4),
        source="tiny",
    )
    trace = Trace(
        "slow-start",
        "synthetic",
        durations_s=[3.0, 60.0],
        bandwidth_kbps=[1500.0, 6000.0],
        latency_s=[0.05, 0.05],
    )
    target = 6.0
    config = SessionConfig(buffer_target_s=target, abandonment=False, first_rendition="estimate")
    played = {
        plan: simulate(trace, video, Scripted(plan), config).summary
        for plan in itertools.product(range(3), repeat=video.segment_count)
    }
    best_lin = max(played, key=lambda p: played[p].qoe_lin)
    best_startup = max(played, key=lambda p: played[p].qoe_lin_startup)
    assert best_lin[0] != best_startup[0]  # the case tells the objectives apart

    # A grid finer than any two distinct states: no merging, so the DP is exact.
    plain, startup = optima(trace, video, target, first_lowest=False, grid_s=1e-9)
    assert plain.renditions == list(best_lin)
    assert plain.qoe_lin == pytest.approx(played[best_lin].qoe_lin, abs=1e-9)
    assert startup.renditions == list(best_startup)
    assert startup.qoe_lin_startup == pytest.approx(played[best_startup].qoe_lin_startup, abs=1e-9)
    assert startup.startup_s == pytest.approx(played[best_startup].startup_s, abs=1e-9)
    # QoE_lin's optimum re-scored with start-up is not that metric's optimum.
    assert plain.qoe_lin_startup < startup.qoe_lin_startup - 1e-3


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
