"""Every trace format, from valid files damaged by `mutations`: a TraceError or a usable trace.

Cases go through `load_trace` on a real file (bytes, decoding, format detection), half of them
with the format forced so that every parser sees every damage. A trace that loads must be one
the simulator's link can carry: a long transfer over it ends at a finite time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulator.link import TraceLink
from tests.fuzz.harness import FuzzRecorder, fuzz_settings
from tests.fuzz.mutations import as_bytes, mutated
from traces.errors import TraceError
from traces.formats import bandwidth_log, csv_format, mahimahi, pensieve, sabre_json
from traces.load import load_trace
from traces.trace import Trace


@st.composite
def traces(draw: st.DrawFn, max_kbps: float = 50_000.0, max_piece_s: float = 10.0) -> Trace:
    n = draw(st.integers(1, 30))
    durations = draw(st.lists(st.floats(0.05, max_piece_s), min_size=n, max_size=n))
    kbps = draw(st.lists(st.floats(0.0, max_kbps), min_size=n, max_size=n))
    kbps[draw(st.integers(0, n - 1))] = draw(st.floats(100.0, max_kbps))
    latency = draw(st.lists(st.floats(0.0, 0.3), min_size=n, max_size=n))
    return Trace("t", "fuzz", np.array(durations), np.array(kbps), np.array(latency))


def _raca_csv(trace: Trace) -> str:
    """Raca et al.'s 4G/5G layout: a Timestamp to the second, DL_bitrate, other columns."""
    start = datetime(2019, 12, 16, 11, 37, 32, tzinfo=UTC).timestamp()
    times = start + np.concatenate(([0.0], np.cumsum(np.ceil(trace.durations_s))[:-1]))
    rows = [
        f"{datetime.fromtimestamp(t, UTC):%Y.%m.%d_%H.%M.%S},-8.4,{b:.0f},-95"
        for t, b in zip(times.tolist(), trace.bandwidth_kbps.tolist(), strict=True)
    ]
    return "\n".join(["Timestamp,Longitude,DL_bitrate,RSRP", *rows]) + "\n"


def _times_csv(trace: Trace) -> str:
    """Sample times in ms, Mbit/s and ISO timestamps beside them."""
    times = np.concatenate(([0.0], np.cumsum(trace.durations_s)[:-1])) * 1000.0
    rows = [
        f"{t:.1f},{b / 1000:.6f},{datetime.fromtimestamp(1.6e9 + t / 1000, UTC).isoformat()}"
        for t, b in zip(times.tolist(), trace.bandwidth_kbps.tolist(), strict=True)
    ]
    return "\n".join(["time_ms,throughput_mbps,note", *rows]) + "\n"


def _csv(trace: Trace) -> st.SearchStrategy[str]:
    return st.sampled_from((csv_format.dump(trace), _raca_csv(trace), _times_csv(trace)))


# Each format's valid files; mahimahi writes a line per packet, so its traces stay small.
VALID: dict[str, Callable[[], st.SearchStrategy[str]]] = {
    "sabre": lambda: traces().map(sabre_json.dump),
    "pensieve": lambda: traces().map(pensieve.dump),
    "mahimahi": lambda: traces(max_kbps=2_000.0, max_piece_s=1.0).map(mahimahi.dump),
    "bandwidth-log": lambda: traces().map(bandwidth_log.dump),
    "csv": lambda: traces().flatmap(_csv),
}


def _usable(trace: Trace) -> None:
    """The link over a loaded trace: a transfer of the largest segment the model allows
    (1 Tbit/s for a day) ends at a finite time, after it started."""
    link = TraceLink(trace)
    end = link.transfer_end(1.0, 8.64e16)
    if not (math.isfinite(end) and end >= 1.0):
        raise ValueError(f"a transfer over the loaded trace ends at {end}")


@pytest.mark.parametrize("name", sorted(VALID))
def test_a_damaged_trace_loads_or_is_refused_by_line(
    name: str, fuzz: FuzzRecorder, tmp_path: Path
) -> None:
    path = tmp_path / "trace.txt"

    @fuzz_settings
    @given(data=mutated(VALID[name]()).flatmap(as_bytes), forced=st.booleans())
    def run(data: bytes, forced: bool) -> None:
        path.write_bytes(data)
        fuzz.case(
            f"traces.{name}",
            lambda: _usable(load_trace(path, name if forced else None)),
            (TraceError,),
        )

    run()


def test_a_refusal_names_the_file_and_stays_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "huge.json"
    path.write_text('[{"duration_ms": 1' + "0" * 400 + ', "bandwidth_kbps": 1, "latency_ms": 1}]')
    with pytest.raises(TraceError) as info:
        load_trace(path)
    assert str(info.value).startswith(f"{path}:1: piece 0: duration") and "\n" not in str(
        info.value
    )
