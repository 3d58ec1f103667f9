"""mahimahi packet-delivery traces: one integer millisecond per line, one 1500-byte packet each.

Repeated timestamps are several packets in that millisecond; the trace repeats with a period
of its last timestamp. Deliveries are binned into 100 ms pieces to give a bandwidth. The
format has no latency: every piece gets `default_latency_s`.
"""

from __future__ import annotations

import numpy as np

from traces.errors import TraceError
from traces.trace import Trace

PACKET_BITS = 1500 * 8
BIN_MS = 100
DEFAULT_LATENCY_S = 0.08


def parse(
    text: str,
    *,
    name: str = "",
    set_name: str = "",
    path: str | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
) -> Trace:
    stamps: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        field = line.strip()
        if not field:
            continue
        try:
            ms = int(field)
        except ValueError:
            raise TraceError(
                f"expected an integer millisecond, got {field!r}", path, number
            ) from None
        if ms < 0:
            raise TraceError(f"negative timestamp {ms}", path, number)
        if stamps and ms < stamps[-1]:
            raise TraceError(f"timestamp {ms} goes back (previous {stamps[-1]})", path, number)
        stamps.append(ms)
    if not stamps:
        raise TraceError("empty trace", path)
    period = max(stamps[-1], 1)
    bins = -(-period // BIN_MS)
    counts = np.bincount(np.asarray(stamps) % period // BIN_MS, minlength=bins)[:bins]
    durations_ms = np.full(bins, float(BIN_MS))
    durations_ms[-1] = period - BIN_MS * (bins - 1)
    kbps = counts * PACKET_BITS / durations_ms  # bits per ms = kbit/s
    return Trace(
        name=name,
        set_name=set_name,
        durations_s=durations_ms / 1000.0,
        bandwidth_kbps=kbps,
        latency_s=np.full(bins, default_latency_s),
        path=path,
    )


def dump(trace: Trace) -> str:
    """Packets spread evenly inside each piece; the last line is the period, as mahimahi expects."""
    lines: list[int] = []
    start_ms = 0.0
    for duration, kbps in zip(trace.durations_s * 1000.0, trace.bandwidth_kbps, strict=True):
        packets = round(kbps * duration / PACKET_BITS)
        lines.extend(int(start_ms + (j + 0.5) * duration / packets) for j in range(packets))
        start_ms += duration
    period = max(round(start_ms), 1)
    lines = [min(t, period - 1) for t in lines]
    lines.append(period)
    return "".join(f"{t}\n" for t in lines)
