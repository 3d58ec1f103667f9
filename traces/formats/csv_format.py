"""CSV with a header: duration (s or ms), bandwidth (kbit/s or Mbit/s), optional latency (ms or s).

Other columns are ignored, so spreadsheets with notes or timestamps load as they are.
"""

from __future__ import annotations

import csv
import io

import numpy as np

from traces.errors import TraceError
from traces.trace import Trace, find_problem

# Accepted column names and the factor to the Trace's unit.
DURATION = {"duration_s": 1.0, "duration_ms": 0.001}
BANDWIDTH = {"bandwidth_kbps": 1.0, "bandwidth_mbps": 1000.0}
LATENCY = {"latency_s": 1.0, "latency_ms": 0.001}
DEFAULT_LATENCY_S = 0.08


def parse(
    text: str,
    *,
    name: str = "",
    set_name: str = "",
    path: str | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
) -> Trace:
    reader = csv.reader(io.StringIO(text))
    header = [h.strip().lower() for h in next(reader, [])]
    if not any(header):
        raise TraceError("empty trace (no header line)", path, 1)
    duration, bandwidth = _column(header, DURATION), _column(header, BANDWIDTH)
    latency = _column(header, LATENCY)
    if duration is None or bandwidth is None:
        missing = [
            " or ".join(choices)
            for choices, found in ((DURATION, duration), (BANDWIDTH, bandwidth))
            if found is None
        ]
        raise TraceError(
            f"missing column {' and '.join(missing)}; found {', '.join(header)}", path, 1
        )
    wanted = [duration, bandwidth, latency] if latency else [duration, bandwidth]
    lines: list[int] = []
    values: list[list[float]] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        try:
            values.append([float(row[i]) * scale for i, scale in wanted])
        except (ValueError, IndexError):
            raise TraceError(f"bad row {','.join(row)!r}", path, reader.line_num) from None
        lines.append(reader.line_num)
    if not values:
        raise TraceError("no rows after the header", path, 2)
    table = np.array(values)
    durations, kbps = table[:, 0], table[:, 1]
    lat = table[:, 2] if latency else np.full(len(table), default_latency_s)
    problem = find_problem(durations, kbps, lat)
    if problem is not None:
        raise TraceError(problem[1], path, lines[problem[0]])
    return Trace(name, set_name, durations, kbps, lat, path)


def dump(trace: Trace) -> str:
    """The Trace's own units and `repr` floats, so parsing gives the same numbers back."""
    lines = ["duration_s,bandwidth_kbps,latency_s"]
    lines += [
        f"{d!r},{b!r},{lat!r}"
        for d, b, lat in zip(
            trace.durations_s.tolist(),
            trace.bandwidth_kbps.tolist(),
            trace.latency_s.tolist(),
            strict=True,
        )
    ]
    return "\n".join(lines) + "\n"


def _column(header: list[str], choices: dict[str, float]) -> tuple[int, float] | None:
    for name, scale in choices.items():
        if name in header:
            return header.index(name), scale
    return None
