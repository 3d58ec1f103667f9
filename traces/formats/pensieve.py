"""Pensieve's "cooked" text: one `time_s bandwidth_Mbps` pair per line (tab or space).

Sample i holds from its time to the next sample's; the last lasts the median gap. The format
has no latency: every piece gets `default_latency_s` (Pensieve's simulator uses an 80 ms RTT).
"""

from __future__ import annotations

import numpy as np

from traces.errors import TraceError
from traces.formats._sample_times import durations_from_times
from traces.formats._text_rows import numbered_rows
from traces.trace import Trace, find_problem

DEFAULT_LATENCY_S = 0.08


def parse(
    text: str,
    *,
    name: str = "",
    set_name: str = "",
    path: str | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
) -> Trace:
    rows = numbered_rows(text, path)
    lines = [n for n, _ in rows]
    for n, fields in rows:
        if len(fields) != 2:
            raise TraceError(f"expected 'time_s bandwidth_Mbps', got {' '.join(fields)!r}", path, n)
    try:
        table = np.array([fields for _, fields in rows], dtype=np.float64)
    except ValueError:
        raise _number_error(rows, path) from None
    with np.errstate(over="ignore"):  # 1e308 Mbit/s is inf kbit/s, which find_problem names
        times, kbps = table[:, 0], table[:, 1] * 1000.0
    durations = durations_from_times(times, lines, path)
    latency = np.full(len(durations), default_latency_s)
    problem = find_problem(durations, kbps, latency)
    if problem is not None:
        raise TraceError(problem[1], path, lines[problem[0]])
    return Trace(name, set_name, durations, kbps, latency, path, pieces_checked=True)


def dump(trace: Trace) -> str:
    """Times from 0; `repr` floats so that parsing gives the same numbers back."""
    starts = np.concatenate(([0.0], np.cumsum(trace.durations_s)[:-1])).tolist()
    mbps = (trace.bandwidth_kbps / 1000.0).tolist()
    return "".join(f"{t!r}\t{b!r}\n" for t, b in zip(starts, mbps, strict=True))


def _number_error(rows: list[tuple[int, list[str]]], path: str | None) -> TraceError:
    for n, fields in rows:
        for field in fields:
            try:
                float(field)
            except ValueError:
                return TraceError(f"not a number: {field!r}", path, n)
    return TraceError("not numbers", path)
