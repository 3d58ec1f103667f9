"""CSV with a header: durations or sample times, a bandwidth, optionally a latency.

- Durations: `duration_s` or `duration_ms`. Or sample times, each sample holding until the
  next (the last for the median gap; rows at the same time are one sample, their mean):
  `time_s`, `time_ms`, or `timestamp` (epoch seconds or milliseconds, ISO 8601, or
  `2019.12.16_11.37.32` as in Raca et al.'s 4G/5G datasets).
- Bandwidth: `bandwidth_kbps`, `bandwidth_mbps`, `throughput_kbps`, `throughput_mbps`, or
  `dl_bitrate` (kbit/s, Raca et al.).
- Latency (optional): `latency_s` or `latency_ms`.

Names are matched without case; other columns are ignored, so spreadsheets with notes,
positions or radio metrics load as they are.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import TypeVar

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
Scale = TypeVar("Scale", float, float | None)


def parse(
    text: str,
    *,
    name: str = "",
    set_name: str = "",
    path: str | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
) -> Trace:
    rows = _rows(text, path)
    header = [h.strip().lower() for h in next(rows, (1, []))[1]]
    if not any(header):
        raise TraceError("empty trace (no header line)", path, 1)
    duration, bandwidth = _column(header, DURATION), _column(header, BANDWIDTH)
    clock_column = duration if duration is not None else _column(header, TIME)
    latency = _column(header, LATENCY)
    if clock_column is None or bandwidth is None:
        missing = []
        if clock_column is None:
            missing.append(f"{' or '.join(DURATION)} (or a time: {', '.join(TIME)})")
        if bandwidth is None:
            missing.append(" or ".join(BANDWIDTH))
        raise TraceError(
            f"missing column {' and '.join(missing)}; found {', '.join(header)}", path, 1
        )
    clock, clock_scale = clock_column
    lines: list[int] = []
    shown: list[str] = []  # the clock column as written, for messages
    values: list[list[float]] = []
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        try:
            written = row[clock].strip()
            numbers = [_number(row, *bandwidth)] + ([_number(row, *latency)] if latency else [])
            if clock_scale is not None:
                numbers.insert(0, float(written) * clock_scale)
        except (ValueError, IndexError):
            raise TraceError(f"bad row {','.join(row)!r}", path, line) from None
        lines.append(line)
        shown.append(written)
        values.append(numbers)
    if not values:
        raise TraceError("no rows after the header", path, 2)
    table = np.array(values)
    if clock_scale is None:
        table = np.column_stack([_timestamps_s(shown, lines, path), table])
    kbps = table[:, 1]
    lat = table[:, 2] if latency else np.full(len(table), default_latency_s)
    if duration is not None:
        durations = table[:, 0]
    else:
        times, kbps, lat, lines, shown = _one_sample_per_time(table[:, 0], kbps, lat, lines, shown)
        durations = durations_from_times(times, lines, path, shown)
    problem = find_problem(durations, kbps, lat)
    if problem is not None:
        raise TraceError(problem[1], path, lines[problem[0]])
    return Trace(name, set_name, durations, kbps, lat, path, pieces_checked=True)


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


def _rows(text: str, path: str | None) -> Iterator[tuple[int, list[str]]]:
    """(line number where it ends, row) per row; the csv module's own refusals (a field over
    its 128 KiB limit) become TraceErrors at the line it had reached."""
    reader = csv.reader(io.StringIO(text))
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise TraceError(f"not CSV ({exc})", path, reader.line_num) from None
        yield reader.line_num, row


def _column(header: list[str], choices: Mapping[str, Scale]) -> tuple[int, Scale] | None:
    for name, scale in choices.items():
        if name in header:
            return header.index(name), scale
    return None


def _number(row: list[str], index: int, scale: float) -> float:
    return float(row[index]) * scale


def _timestamps_s(written: list[str], lines: list[int], path: str | None) -> np.ndarray:
    """Seconds from a `timestamp` column: epoch seconds (milliseconds when the first is past
    1e11, which in seconds is the year 5138), ISO 8601, or Raca et al.'s stamps; one kind per
    file, so that no gap is measured between a zoned time and one without a zone."""
    seconds: list[float] = []
    first_kind = ""
    for text, line in zip(written, lines, strict=True):
        kind, value = _timestamp(text)
        if not kind:
            raise TraceError(f"not a timestamp: {text!r}", path, line)
        first_kind = first_kind or kind
        if kind != first_kind:
            raise TraceError(
                f"timestamp {text!r} is {kind}, the first row's is {first_kind}", path, line
            )
        seconds.append(value)
    values = np.array(seconds)
    if first_kind == "a number" and abs(values[0]) > 1e11:
        values = values / 1000.0
    return values


def _timestamp(text: str) -> tuple[str, float]:
    """(what kind of timestamp `text` is, its seconds), or ("", nan) when it is none."""
    try:
        return "a number", float(text)
    except ValueError:
        pass
    try:
        stamp = datetime.strptime(text, RACA_TIMESTAMP)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(text)
        except ValueError:
            return "", math.nan
    if stamp.tzinfo is not None:
        return "a date with a time zone", stamp.timestamp()
    # Without a zone every row is read as UTC, so a daylight-saving change shifts no gap.
    return "a date without a time zone", stamp.replace(tzinfo=UTC).timestamp()


def _one_sample_per_time(
    times: np.ndarray, kbps: np.ndarray, lat: np.ndarray, lines: list[int], shown: list[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[int], list[str]]:
    """Rows at the same time as the row before are one sample with their mean rate and latency:
    loggers stamping to the second sometimes write two rows in one second."""
    with np.errstate(all="ignore"):
        new = np.concatenate(([True], np.diff(times) != 0))
    starts = np.flatnonzero(new)
    counts = np.diff(np.append(starts, len(times)))
    return (
        times[starts],
        np.add.reduceat(kbps, starts) / counts,
        np.add.reduceat(lat, starts) / counts,
        [lines[i] for i in starts],
        [shown[i] for i in starts],
    )
