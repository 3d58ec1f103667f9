"""CSV with a header: duration (s or ms), bandwidth (kbit/s or Mbit/s), optional latency (ms or s)."""

from __future__ import annotations

import csv
import io

import numpy as np

from traces.errors import TraceError
from traces.trace import Trace

DURATION = {"duration_s": 1.0, "duration_ms": 0.001}
BANDWIDTH = {"bandwidth_kbps": 1.0, "bandwidth_mbps": 1000.0}
LATENCY = {"latency_s": 1.0, "latency_ms": 0.001}
DEFAULT_LATENCY_S = 0.08


def _column(
    header: list[str], choices: dict[str, float], path: str | None
) -> tuple[int, float] | None:
    for name, scale in choices.items():
        if name in header:
            return header.index(name), scale
    return None


def parse(
    text: str,
    *,
    name: str = "",
    set_name: str = "",
    path: str | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
) -> Trace:
    rows = list(csv.reader(io.StringIO(text)))
    if not rows:
        raise TraceError("empty trace", path)
    header = [h.strip().lower() for h in rows[0]]
    duration = _column(header, DURATION, path)
    bandwidth = _column(header, BANDWIDTH, path)
    latency = _column(header, LATENCY, path)
    if duration is None or bandwidth is None:
        wanted = "a duration column (duration_s|duration_ms) and a bandwidth column (bandwidth_kbps|bandwidth_mbps)"
        raise TraceError(f"need {wanted}; found {', '.join(header) or 'no columns'}", path, 1)
    durations: list[float] = []
    rates: list[float] = []
    latencies: list[float] = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        try:
            d = float(row[duration[0]]) * duration[1]
            b = float(row[bandwidth[0]]) * bandwidth[1]
            lat = float(row[latency[0]]) * latency[1] if latency else default_latency_s
        except (ValueError, IndexError):
            raise TraceError(f"bad row {','.join(row)!r}", path, number) from None
        if not (d > 0) or not (b >= 0) or not (lat >= 0) or b != b or lat != lat:
            raise TraceError(f"bad values in row {','.join(row)!r}", path, number)
        durations.append(d)
        rates.append(b)
        latencies.append(lat)
    if not durations:
        raise TraceError("no rows after the header", path)
    return Trace(
        name=name,
        set_name=set_name,
        durations_s=np.asarray(durations),
        bandwidth_kbps=np.asarray(rates),
        latency_s=np.asarray(latencies),
        path=path,
    )


def dump(trace: Trace) -> str:
    lines = ["duration_s,bandwidth_kbps,latency_ms"]
    lines += [
        f"{float(d)!r},{float(b)!r},{float(lat) * 1000.0!r}"
        for d, b, lat in zip(trace.durations_s, trace.bandwidth_kbps, trace.latency_s, strict=True)
    ]
    return "\n".join(lines) + "\n"
