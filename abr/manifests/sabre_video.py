"""Sabre-style video JSON -> Presentation: exact segment sizes, no URLs.

    {"segment_duration_ms": 3000,
     "bitrates_kbps": [230, 331, ...],                 # ascending, one per rendition
     "segment_sizes_bits": [[s0q0, s0q1, ...], ...]}   # [segment][rendition]

The caller reads and decodes the file (`json.loads`); this only validates and converts.
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Mapping, Sequence
from typing import TypeGuard

from abr.manifests._ladder import MAX_BANDWIDTH_BPS, MAX_SEGMENT_BITS, MAX_SEGMENT_S, MAX_SEGMENTS
from abr.manifests.errors import ManifestError
from abr.presentation import Presentation, Rendition, SegmentRef

_KEYS = ("segment_duration_ms", "bitrates_kbps", "segment_sizes_bits")
# (smallest, largest) accepted. The smallest keep what is derived from them non-zero: the
# bandwidth in bit/s (kbps x 1000, rounded) and the duration in seconds (ms / 1000).
DURATION_MS = (1.0, MAX_SEGMENT_S * 1000.0)
KBPS = (0.001, MAX_BANDWIDTH_BPS / 1000.0)
SIZE_BITS = (math.ulp(0.0), MAX_SEGMENT_BITS)


def parse_sabre_video(data: Mapping[str, object], source: str = "") -> Presentation:
    """Renditions "q0", "q1", ... (bandwidth = kbps x 1000), every segment the same duration.

    Raises ManifestError naming the problem: a missing key, a ragged row (segment N), a number
    that is not finite, positive and in range (which field, which segment and rendition),
    bitrates out of order...
    """
    if not isinstance(data, Mapping):
        raise ManifestError(source, f"expected a JSON object, got {type(data).__name__}")
    missing = [key for key in _KEYS if key not in data]
    if missing:
        raise ManifestError(source, f"missing key {missing[0]!r}")
    bitrates = data["bitrates_kbps"]
    sizes = data["segment_sizes_bits"]
    duration_ms = _number(data["segment_duration_ms"], DURATION_MS, source, "segment_duration_ms")
    if not _list(bitrates) or not bitrates:
        raise ManifestError(source, "bitrates_kbps must be a non-empty list")
    kbps_values = [
        _number(kbps, KBPS, source, f"bitrates_kbps[{q}]") for q, kbps in enumerate(bitrates)
    ]
    if kbps_values != sorted(kbps_values):
        raise ManifestError(source, "bitrates_kbps must be in ascending order")
    if not _list(sizes) or not sizes:
        raise ManifestError(source, "segment_sizes_bits must be a non-empty list of rows")
    if len(sizes) > MAX_SEGMENTS:
        raise ManifestError(source, f"{len(sizes)} segments: more than the {MAX_SEGMENTS} allowed")
    rows: list[list[float]] = []
    for i, row in enumerate(sizes):
        if not _list(row) or len(row) != len(bitrates):
            got = f"{len(row)} values" if _list(row) else type(row).__name__
            raise ManifestError(
                source, f"segment {i}: expected {len(bitrates)} sizes (one per bitrate), got {got}"
            )
        rows.append(
            [
                _number(size, SIZE_BITS, source, f"segment {i}, rendition q{q}: size")
                for q, size in enumerate(row)
            ]
        )
    renditions = tuple(
        Rendition(
            id=f"q{q}",
            bandwidth_bps=round(kbps * 1000),
            segments=tuple(SegmentRef(url=None, size_bits=row[q]) for row in rows),
        )
        for q, kbps in enumerate(kbps_values)
    )
    duration_s = duration_ms / 1000.0
    return Presentation(renditions, (duration_s,) * len(rows), source=source)


def _number(value: object, bounds: tuple[float, float], source: str, what: str) -> float:
    """`value` as a float within `bounds`, or a ManifestError naming the field.

    JSON true/false are ints to Python: not numbers here. A JSON integer of hundreds of digits
    is a Python int that no float holds: out of range too.
    """
    number = math.nan
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            number = float(value)
        except OverflowError:
            number = math.inf
    low, high = bounds
    if not low <= number <= high:  # NaN fails too
        raise ManifestError(
            source, f"{what} must be a number from {low:g} to {high:g}, not {_shown(value)}"
        )
    return number


def _shown(value: object) -> str:
    """The value for a message, short: the input may hold megabytes in one field."""
    if isinstance(value, int) and value.bit_length() > 64:
        # repr() itself refuses ints of over 4300 digits.
        return f"an integer of {int(value.bit_length() * math.log10(2)) + 1} digits"
    if isinstance(value, float) and math.isinf(value):
        return f"{value} (or a number too large for a float)"
    return reprlib.repr(value)


def _list(value: object) -> TypeGuard[Sequence[object]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)
