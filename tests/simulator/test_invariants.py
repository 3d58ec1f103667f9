"""Invariants of a simulated session, over random traces, algorithms and settings."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from random_traces import traces

from abr.config import SessionConfig
from abr.presentation import Presentation
from abr.registry import BUILTIN, create
from simulator.run import simulate
from traces.trace import Trace

ALGORITHMS = sorted(BUILTIN)


configs = st.builds(
    SessionConfig,
    buffer_target_segments=st.integers(1, 8),
    abandonment=st.booleans(),
    first_rendition=st.sampled_from(["lowest", "estimate"]),
)

common = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@common
@given(trace=traces(), algorithm=st.sampled_from(ALGORITHMS), config=configs)
def test_time_adds_up_and_buffer_never_goes_negative(
    video: Presentation, trace: Trace, algorithm: str, config: SessionConfig
) -> None:
    result = simulate(trace, video, create(algorithm), config)
    m = result.metrics
    assert m.ended_at is not None and m.startup_s is not None
    wall = m.ended_at - m.started_at
    assert m.startup_s + m.played_s + m.stalled_s + m.paused_s + m.seeking_s == pytest.approx(
        wall, abs=1e-6
    )
    assert m.played_s == pytest.approx(video.duration_s, abs=1e-6)
    for d in m.downloads:
        assert d.buffer_before_s >= -1e-9 and d.buffer_after_s >= -1e-9
        assert d.done_at >= d.first_byte_at >= d.requested_at
    assert [i for i, _ in m.buffered] == list(range(video.segment_count))


@common
@given(trace=traces(), algorithm=st.sampled_from(ALGORITHMS), config=configs)
def test_bytes_downloaded_are_the_chosen_segments_plus_abandoned_bytes(
    video: Presentation, trace: Trace, algorithm: str, config: SessionConfig
) -> None:
    m = simulate(trace, video, create(algorithm), config).metrics
    chosen = sum(video.renditions[q].segments[i].size_bits for i, q in m.buffered)
    abandoned = sum(d.bits for d in m.downloads if d.abandoned)
    assert sum(d.bits for d in m.downloads) == pytest.approx(chosen + abandoned, rel=1e-9)


@common
@given(trace=traces(), algorithm=st.sampled_from(ALGORITHMS), seed=st.integers(0, 2**32 - 1))
def test_same_seed_same_session(
    video: Presentation, trace: Trace, algorithm: str, seed: int
) -> None:
    first = simulate(trace, video, create(algorithm), noise=0.2, seed=seed).summary
    again = simulate(trace, video, create(algorithm), noise=0.2, seed=seed).summary
    assert first == again
