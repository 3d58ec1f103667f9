"""Raw bandwidth logs of Riiser et al. (3G/HSDPA, Norway) and van der Hooft et al. (4G, Ghent).

Six whitespace-separated columns per line: a wall-clock timestamp, a monotonic timestamp in
ms, GPS latitude and longitude, the bytes received since the previous line and the ms elapsed
since it. Each line is one piece: `elapsed` ms at `bytes x 8 / elapsed` kbit/s. These are the
logs the Sabre 3G/4G and Pensieve Norway sets were cooked from; the format has no latency, so
every piece gets `default_latency_s`.
"""

from __future__ import annotations

import numpy as np

from traces.errors import TraceError
from traces.formats._text_rows import numbered_rows
from traces.trace import Trace, find_problem

COLUMNS = 6
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
    received: list[float] = []
    for n, fields in rows:
        if len(fields) != COLUMNS:
            raise TraceError(
                f"expected {COLUMNS} columns 'timestamp ms latitude longitude bytes elapsed_ms', "
                f"got {' '.join(fields)!r}",
                path,
                n,
            )
        for field in fields:
            try:
                number = float(field)
            except ValueError:
                raise TraceError(f"not a number: {field!r}", path, n) from None
            received.append(number)
    table = np.array(received).reshape(-1, COLUMNS)
    bytes_received, elapsed_ms = table[:, 4], table[:, 5]
    # Absurd values (1e308 bytes, 1e-320 ms) overflow to inf: find_problem names the line.
    with np.errstate(all="ignore"):
        durations = elapsed_ms / 1000.0
        kbps = bytes_received * 8.0 / elapsed_ms  # bits per ms = kbit/s
    latency = np.full(len(durations), default_latency_s)
    problem = find_problem(durations, kbps, latency)
    if problem is not None:
        i, reason = problem
        detail = f"{bytes_received[i]:g} bytes in {elapsed_ms[i]:g} ms"
        raise TraceError(f"{reason} ({detail})", path, rows[i][0])
    return Trace(name, set_name, durations, kbps, latency, path, pieces_checked=True)


def dump(trace: Trace) -> str:
    """A clock from 0 (each line stamped when its piece ends, as the logs are) and no position;
    `repr` floats so that parsing gives the same numbers back."""
    elapsed_ms = (trace.durations_s * 1000.0).tolist()
    bytes_received = (trace.bandwidth_kbps * trace.durations_s * 1000.0 / 8.0).tolist()
    clock = np.cumsum(trace.durations_s * 1000.0).tolist()
    return "".join(
        f"{int(t // 1000)} {t!r} 0.0 0.0 {b!r} {ms!r}\n"
        for t, b, ms in zip(clock, bytes_received, elapsed_ms, strict=True)
    )
