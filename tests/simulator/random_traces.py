"""A hypothesis strategy for the simulator's property tests: any short trace a link could be."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from traces.trace import Trace


@st.composite
def traces(draw: st.DrawFn, max_pieces: int = 30, min_piece_s: float = 0.2) -> Trace:
    n = draw(st.integers(1, max_pieces))
    durations = draw(st.lists(st.floats(min_piece_s, 20.0), min_size=n, max_size=n))
    bandwidth = draw(st.lists(st.floats(0.0, 20_000.0), min_size=n, max_size=n))
    if max(bandwidth) < 300.0:
        bandwidth[0] = 1_000.0  # a link that never delivers is not a trace
    latency = draw(st.lists(st.floats(0.0, 0.3), min_size=n, max_size=n))
    return Trace(
        name="random",
        set_name="hypothesis",
        durations_s=np.array(durations),
        bandwidth_kbps=np.array(bandwidth),
        latency_s=np.array(latency),
    )
