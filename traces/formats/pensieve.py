"""Pensieve's "cooked" text: one `time_s bandwidth_Mbps` pair per line (tab or space).

Sample i holds from its time to the next sample's; the last lasts the median gap. The format
has no latency: every piece gets `default_latency_s` (Pensieve's simulator uses an 80 ms RTT).
"""

from __future__ import annotations

import numpy as np

from traces.errors import TraceError
from traces.trace import Trace

DEFAULT_LATENCY_S = 0.08


def parse(
    text: str,
    *,
    name: str = "",
    set_name: str = "",
    path: str | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
) -> Trace:
    times: list[float] = []
    rates: list[float] = []
    for number, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        if not fields:
            continue
        if len(fields) != 2:
            raise TraceError(
                f"expected 'time_s bandwidth_Mbps', got {line.strip()!r}", path, number
            )
        try:
            t, mbps = float(fields[0]), float(fields[1])
        except ValueError:
            raise TraceError(f"not numbers: {line.strip()!r}", path, number) from None
        if not (np.isfinite(t) and np.isfinite(mbps)) or mbps < 0:
            raise TraceError(f"bad bandwidth {fields[1]!r}", path, number)
        if times and t <= times[-1]:
            raise TraceError(f"time {t} does not increase (previous {times[-1]})", path, number)
        times.append(t)
        rates.append(mbps * 1000.0)
    if not times:
        raise TraceError("empty trace", path)
    gaps = np.diff(np.asarray(times))
    last = float(np.median(gaps)) if len(gaps) else 1.0
    durations = np.append(gaps, last)
    return Trace(
        name=name,
        set_name=set_name,
        durations_s=durations,
        bandwidth_kbps=np.asarray(rates),
        latency_s=np.full(len(durations), default_latency_s),
        path=path,
    )


def dump(trace: Trace) -> str:
    starts = np.concatenate(([0.0], np.cumsum(trace.durations_s)[:-1]))
    return "".join(
        f"{float(t)!r}\t{float(b) / 1000.0!r}\n"
        for t, b in zip(starts, trace.bandwidth_kbps, strict=True)
    )
