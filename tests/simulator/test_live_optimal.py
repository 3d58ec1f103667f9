"""The live bound: no rate-1 algorithm beats it, and it is the best of every rendition plan."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from random_traces import traces

from abr.config import SessionConfig
from abr.manifests import parse_sabre_video
from abr.registry import BUILTIN, PROFILES, create
from simulator.live import simulate_live
from simulator.live_channel import LiveChannel, LiveSetup
from simulator.live_optimal import live_bound, live_plan_qoe
from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.trace import Trace

VIDEO = parse_sabre_video(synthetic_video(segments=30, segment_duration_s=2.0, seed=4), source="v")
# The set the bound covers: rate 1 (no catch-up, LoL+'s speed control held at 1) and no resync
# to live after a long stall (the plan plays every segment).
RATE_ONE = replace(
    PROFILES["default"].session, live_max_rate_change=0.0, live_resync_after_stall_s=math.inf
)


@pytest.mark.parametrize(
    "setup", [LiveSetup(3.0), LiveSetup(1.5, 0.5), LiveSetup(6.0, 1.0)], ids=str
)
@pytest.mark.parametrize("trace", synthetic.builtin_set(seed=3), ids=lambda t: t.name)
def test_no_rate_one_algorithm_beats_the_bound(trace: Trace, setup: LiveSetup) -> None:
    bound = live_bound(trace, VIDEO, setup, RATE_ONE)
    for name in sorted(BUILTIN):
        live = simulate_live(trace, VIDEO, create(name), setup, RATE_ONE).live
        assert live is not None and live.rate_change_s == 0
        # Where an algorithm plays the bound's plan it ties; the session's latency is UTC
        # arithmetic near 1.7e9 s (0.2 us steps), hence the tolerance.
        assert live.qoe_live <= bound.qoe_live + 1e-6 * abs(bound.qoe_live), name
    # The plan it names reaches it, and it starts, as the session does, at the lowest rung.
    assert live_plan_qoe(trace, VIDEO, setup, RATE_ONE, bound.renditions) == pytest.approx(
        bound.qoe_live
    )
    assert bound.renditions[0] == 0 and bound.latency_mean_s >= setup.target_latency_s - 1e-9


TINY = parse_sabre_video(
    synthetic_video(bitrates_kbps=(300, 1200, 4000), segments=8, segment_duration_s=1.0, seed=9),
    source="tiny",
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(trace=traces(max_pieces=8, min_piece_s=0.3))
def test_the_bound_is_the_best_of_every_plan(trace: Trace) -> None:
    setup = LiveSetup(2.0)
    config = SessionConfig(buffer_target_segments=3)
    count = LiveChannel(TINY, setup).count
    bound = live_bound(trace, TINY, setup, config)
    length = len(bound.renditions)
    assert 2 <= length < count
    best = max(
        live_plan_qoe(trace, TINY, setup, config, [0, *rest])
        for rest in itertools.product(range(3), repeat=length - 1)
    )
    assert bound.qoe_live == pytest.approx(best, rel=1e-12, abs=1e-6)


def test_a_plan_of_the_wrong_length_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="a plan needs"):
        live_plan_qoe(synthetic.constant(5_000), TINY, LiveSetup(2.0), SessionConfig(), [0])
