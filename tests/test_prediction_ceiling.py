"""The clairvoyant MPC of `bench.prediction_ceiling` must see exactly the trace's future."""

from __future__ import annotations

import pytest

from abr.context import AbrContext
from abr.presentation import Presentation
from bench.prediction_ceiling import ClairvoyantMpc
from simulator.link import TraceLink
from traces.trace import Trace


def prediction_at(video: Presentation, now: float, first: float, then: float) -> float | None:
    """What a 12 s oracle predicts at `now` on a link of `first` kbit/s for 20 s, then `then`."""
    trace = Trace(
        "two-steps",
        "synthetic",
        durations_s=[20.0, 60.0],
        bandwidth_kbps=[first, then],
        latency_s=[0.0, 0.0],
    )
    ctx = AbrContext(video, buffer_target_s=12.0)
    ctx.now = now
    return ClairvoyantMpc(TraceLink(trace), window_s=12.0).predict_kbps(ctx)


def test_it_is_told_the_true_mean_of_the_coming_window(video: Presentation) -> None:
    assert prediction_at(video, 0.0, 1000.0, 5000.0) == pytest.approx(1000.0)
    # 6 s before the step: half the window at each rate.
    assert prediction_at(video, 14.0, 1000.0, 5000.0) == pytest.approx(3000.0)


def test_an_outage_ahead_is_planned_at_a_trickle_not_zero(video: Presentation) -> None:
    assert prediction_at(video, 0.0, 0.0, 2000.0) == 1.0
