"""mahimahi packet-delivery traces: one integer millisecond per line, one 1500-byte packet each.

Repeated timestamps are several packets in that millisecond; the trace repeats with a period
of its last timestamp. Deliveries are binned into 100 ms pieces to give a bandwidth. The
format has no latency: every piece gets `default_latency_s`.
"""

from __future__ import annotations

import contextlib
import re

import numpy as np

from traces.errors import TraceError
from traces.trace import Trace

PACKET_BITS = 1500 * 8
BIN_MS = 100
# One bin per 100 ms: a period of 2^62 ms would ask for 4.6e16 bins. Real traces last minutes.
MAX_PERIOD_MS = 86_400_000
DEFAULT_LATENCY_S = 0.08
# Two fields on one line (whitespace between non-blanks, without a line break).
_TWO_FIELDS = re.compile(r"\S[^\S\r\n]+\S")


def parse(
    text: str,
    *,
    name: str = "",
    set_name: str = "",
    path: str | None = None,
    default_latency_s: float = DEFAULT_LATENCY_S,
) -> Trace:
    # 200k-line files are common: convert all tokens at once when no line holds two,
    # and only walk the lines to name the culprit when something is wrong.
    stamps: np.ndarray | None = None
    if _TWO_FIELDS.search(text) is None:
        with contextlib.suppress(ValueError, OverflowError):
            stamps = np.array(text.split(), dtype=np.int64)
    if stamps is None:
        raise _first_bad_line(text, path)
    if len(stamps) == 0:
        raise TraceError("empty trace", path, 1)
    if (stamps < 0).any():
        i = int(np.argmax(stamps < 0))
        raise TraceError(f"negative timestamp {stamps[i]}", path, _line_of(text, i))
    back = np.diff(stamps) < 0
    if back.any():
        i = int(np.argmax(back)) + 1
        raise TraceError(
            f"timestamp {stamps[i]} goes back (previous {stamps[i - 1]})", path, _line_of(text, i)
        )
    period = int(stamps[-1])
    if period == 0:
        # mahimahi itself refuses these: the schedule would repeat without time passing.
        raise TraceError(
            "the trace lasts 0 ms (its last timestamp is its period)",
            path,
            _line_of(text, len(stamps) - 1),
        )
    if period > MAX_PERIOD_MS:
        raise TraceError(
            f"the trace lasts {period} ms: more than the {MAX_PERIOD_MS} (a day) allowed",
            path,
            _line_of(text, len(stamps) - 1),
        )
    bins = -(-period // BIN_MS)
    # A delivery at the period itself is the next repetition's time 0: fold it into bin 0.
    counts = np.bincount(stamps % period // BIN_MS, minlength=bins)
    durations_ms = np.full(bins, float(BIN_MS))
    durations_ms[-1] = period - BIN_MS * (bins - 1)  # the last bin may be partial
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
    """Packets spread evenly inside each piece; the last line is the period, as mahimahi expects.

    Packet counts are rounded on the running total, so the volume is off by under one packet
    overall rather than up to half a packet per piece.
    """
    ends_ms = np.cumsum(trace.durations_s) * 1000.0
    starts_ms = ends_ms - trace.durations_s * 1000.0
    kbits = np.cumsum(trace.durations_s * trace.bandwidth_kbps)
    total_packets = np.rint(kbits * 1000.0 / PACKET_BITS)
    packets = np.diff(total_packets, prepend=0.0).astype(np.int64)
    period = max(round(float(ends_ms[-1])), 1)
    stamps: list[int] = []
    for start, end, count in zip(
        starts_ms.tolist(), ends_ms.tolist(), packets.tolist(), strict=True
    ):
        step = (end - start) / count if count else 0.0
        stamps.extend(min(int(start + (j + 0.5) * step), period - 1) for j in range(count))
    # The period line is itself a delivery (folded to time 0): let it replace the last packet.
    if stamps:
        stamps.pop()
    stamps.append(period)
    return "".join(f"{t}\n" for t in stamps)


def _first_bad_line(text: str, path: str | None) -> TraceError:
    for n, line in enumerate(text.splitlines(), start=1):
        fields = line.split()
        try:
            if len(fields) > 1:
                raise ValueError
            if fields and abs(int(fields[0])) >= 2**63:
                raise ValueError
        except ValueError:
            got = " ".join(fields)
            return TraceError(f"expected one integer millisecond, got {got!r}", path, n)
    return TraceError("malformed timestamps", path)


def _line_of(text: str, index: int) -> int:
    """The line number of the index-th timestamp (blank lines do not count)."""
    seen = -1
    for n, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            seen += 1
            if seen == index:
                return n
    raise IndexError(index)
