"""The simulator's request model (what `--fidelity` measures) and the trace alignment."""

from __future__ import annotations

import numpy as np
import pytest

from abr.config import SessionConfig
from abr.manifests import parse_sabre_video
from abr.registry import create
from qa.fidelity import rotate
from simulator.link import RequestModel
from simulator.run import simulate
from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.trace import Trace

LADDER = (500, 1000)


def test_the_request_model_charges_overhead_and_served_sizes() -> None:
    video = parse_sabre_video(synthetic_video(LADDER, segments=5, segment_duration_s=2.0))
    trace = synthetic.constant(4000, latency_s=0.05)  # 4 Mbit/s
    config = SessionConfig(first_rendition="lowest")
    plain = simulate(trace, video, create("throughput"), config)
    first_bits = video.renditions[0].segments[0].size_bits
    assert plain.summary.startup_s == pytest.approx(0.05 + first_bits / 4e6)

    real = [[2 * r.segments[i].size_bits for r in video.renditions] for i in range(5)]
    model = RequestModel(overhead_s=0.01, transfer_bits=tuple(tuple(row) for row in real))
    modelled = simulate(trace, video, create("throughput"), config, requests=model)
    # Latency plus overhead, then the segment at the size served (twice the announced).
    assert modelled.summary.startup_s == pytest.approx(0.05 + 0.01 + 2 * first_bits / 4e6)
    # The session measured the link, not the model: throughput stays the trace's 4 Mbit/s.
    assert modelled.metrics.downloads[-1].throughput_kbps == pytest.approx(4000)


def test_rotate_starts_the_looping_trace_later() -> None:
    trace = Trace("t", "s", np.array([1.0, 2.0, 3.0]), np.array([10.0, 20.0, 30.0]), np.zeros(3))
    rotated = rotate(trace, 1.5)
    assert rotated.durations_s.tolist() == [1.5, 3.0, 1.0, 0.5]
    assert rotated.bandwidth_kbps.tolist() == [20.0, 30.0, 10.0, 20.0]
    assert rotated.total_duration_s == trace.total_duration_s
    looped = rotate(trace, 7.0)  # one period and 1 s
    assert looped.durations_s.tolist() == [2.0, 3.0, 1.0]
    assert looped.bandwidth_kbps.tolist() == [20.0, 30.0, 10.0]
