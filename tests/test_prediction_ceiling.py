"""The clairvoyant MPC of `bench.prediction_ceiling` must see exactly the trace's future."""

from __future__ import annotations

import pytest

from abr.context import AbrContext
from abr.presentation import Presentation
from bench.prediction_ceiling import ClairvoyantMpc
from simulator.link import TraceLink
from traces.trace import Trace


def test_it_is_told_the_true_mean_of_the_coming_window(video: Presentation) -> None:
    step_up = Trace(
        "step",
        "synthetic",
        durations_s=[20.0, 60.0],
        bandwidth_kbps=[1000.0, 5000.0],
        latency_s=[0.0, 0.0],
    )
    ctx = AbrContext(video, buffer_target_s=12.0)
    oracle = ClairvoyantMpc(TraceLink(step_up), window_s=12.0)
    ctx.now = 0.0
    assert oracle.predict_kbps(ctx) == pytest.approx(1000.0)
    ctx.now = 14.0  # 6 s before the step: half the window at each rate
    assert oracle.predict_kbps(ctx) == pytest.approx(3000.0)


def test_an_outage_ahead_is_planned_at_a_trickle_not_zero(video: Presentation) -> None:
    outage = Trace(
        "outage",
        "synthetic",
        durations_s=[30.0, 30.0],
        bandwidth_kbps=[0.0, 2000.0],
        latency_s=[0.0, 0.0],
    )
    ctx = AbrContext(video, buffer_target_s=12.0)
    ctx.now = 0.0
    assert ClairvoyantMpc(TraceLink(outage), window_s=12.0).predict_kbps(ctx) == 1.0
