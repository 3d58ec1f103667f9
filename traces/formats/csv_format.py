"""CSV with a header: durations or sample times, a bandwidth, optionally a latency.

- Durations: `duration_s` or `duration_ms`. Or sample times, each sample holding until the
  next (the last for the median gap): `time_s`, `time_ms`, or `timestamp` (epoch seconds, ISO
  8601, or `2019.12.16_11.37.32` as in Raca et al.'s 4G/5G datasets).
- Bandwidth: `bandwidth_kbps`, `bandwidth_mbps`, `throughput_kbps`, `throughput_mbps`, or
  `dl_bitrate` (kbit/s, Raca et al.).
- Latency (optional): `latency_s` or `latency_ms`.

Names are matched without case; other columns are ignored, so spreadsheets with notes,
positions or radio metrics load as they are.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from datetime import UTC, datetime

import numpy as np

from traces.errors import TraceError
from traces.formats._sample_times import durations_from_times
from traces.trace import Trace, find_problem

# Accepted column names and the factor to the Trace's unit (None: date-time text or seconds).
DURATION = {"duration_s": 1.0, "duration_ms": 0.001}
TIME: dict[str, float | None] = {"time_s": 1.0, "time_ms": 0.001, "timestamp": None}
BANDWIDTH = {
    "bandwidth_kbps": 1.0,
    "bandwidth_mbps": 1000.0,
    "throughput_kbps": 1.0,
    "throughput_mbps": 1000.0,
    "dl_bitrate": 1.0,
}
LATENCY = {"latency_s": 1.0, "latency_ms": 0.001}
DEFAULT_LATENCY_S = 0.08
RACA_TIMESTAMP = "%Y.%m.%d_%H.%M.%S"


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
    time = _column(header, TIME) if duration is None else None
    latency = _column(header, LATENCY)
    if (duration is None and time is None) or bandwidth is None:
        missing = []
        if duration is None and time is None:
            missing.append(f"{' or '.join(DURATION)} (or a time: {', '.join(TIME)})")
        if bandwidth is None:
            missing.append(" or ".join(BANDWIDTH))
        raise TraceError(
            f"missing column {' and '.join(missing)}; found {', '.join(header)}", path, 1
        )
    first = duration or time
    assert first is not None
    lines: list[int] = []
    values: list[list[float]] = []
    for row in reader:
        if not any(cell.strip() for cell in row):
            continue
        try:
            values.append(
                [_cell(row, *first), _cell(row, *bandwidth)]
                + ([_cell(row, *latency)] if latency else [])
            )
        except (ValueError, IndexError):
            raise TraceError(f"bad row {','.join(row)!r}", path, reader.line_num) from None
        lines.append(reader.line_num)
    if not values:
        raise TraceError("no rows after the header", path, 2)
    table = np.array(values)
    kbps = table[:, 1]
    if duration is not None:
        durations = table[:, 0]
    else:
        durations = durations_from_times(table[:, 0], lines, path)
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


def _column(
    header: list[str], choices: Mapping[str, float | None]
) -> tuple[int, float | None] | None:
    for name, scale in choices.items():
        if name in header:
            return header.index(name), scale
    return None


def _cell(row: list[str], index: int, scale: float | None) -> float:
    text = row[index].strip()
    if scale is not None:
        return float(text) * scale
    try:
        return float(text)  # epoch seconds
    except ValueError:
        pass
    try:
        stamp = datetime.strptime(text, RACA_TIMESTAMP)
    except ValueError:
        stamp = datetime.fromisoformat(text)  # raises ValueError: a bad row
    if stamp.tzinfo is None:  # no zone given: read as UTC, so that no DST change shifts a gap
        stamp = stamp.replace(tzinfo=UTC)
    return stamp.timestamp()
