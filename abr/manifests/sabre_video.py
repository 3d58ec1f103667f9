"""Sabre-style video JSON -> Presentation: exact segment sizes, no URLs.

    {"segment_duration_ms": 3000,
     "bitrates_kbps": [230, 331, ...],                 # ascending, one per rendition
     "segment_sizes_bits": [[s0q0, s0q1, ...], ...]}   # [segment][rendition]

The caller reads and decodes the file (`json.loads`); this only validates and converts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeGuard

from abr.manifests.errors import ManifestError
from abr.presentation import Presentation, Rendition, SegmentRef

_KEYS = ("segment_duration_ms", "bitrates_kbps", "segment_sizes_bits")


def parse_sabre_video(data: Mapping[str, object], source: str = "") -> Presentation:
    """Renditions "q0", "q1", ... (bandwidth = kbps x 1000), every segment the same duration.

    Raises ManifestError naming the problem: a missing key, a ragged row (segment N), a size that
    is not a positive finite number (segment N, rendition q), bitrates out of order...
    """
    if not isinstance(data, Mapping):
        raise ManifestError(source, f"expected a JSON object, got {type(data).__name__}")
    missing = [key for key in _KEYS if key not in data]
    if missing:
        raise ManifestError(source, f"missing key {missing[0]!r}")
    duration_ms = data["segment_duration_ms"]
    bitrates = data["bitrates_kbps"]
    sizes = data["segment_sizes_bits"]
    if not _positive(duration_ms):
        raise ManifestError(
            source, f"segment_duration_ms must be a positive number, not {duration_ms!r}"
        )
    if not _list(bitrates) or not bitrates:
        raise ManifestError(source, "bitrates_kbps must be a non-empty list")
    kbps_values: list[float] = []
    for q, kbps in enumerate(bitrates):
        if not _positive(kbps):
            raise ManifestError(
                source, f"bitrates_kbps[{q}] must be a positive number, not {kbps!r}"
            )
        kbps_values.append(float(kbps))
    if kbps_values != sorted(kbps_values):
        raise ManifestError(source, "bitrates_kbps must be in ascending order")
    if not _list(sizes) or not sizes:
        raise ManifestError(source, "segment_sizes_bits must be a non-empty list of rows")
    rows: list[list[float]] = []
    for i, row in enumerate(sizes):
        if not _list(row) or len(row) != len(bitrates):
            got = f"{len(row)} values" if _list(row) else type(row).__name__
            raise ManifestError(
                source, f"segment {i}: expected {len(bitrates)} sizes (one per bitrate), got {got}"
            )
        values: list[float] = []
        for q, size in enumerate(row):
            if not _positive(size):
                raise ManifestError(
                    source,
                    f"segment {i}, rendition q{q}: size must be a positive number, not {size!r}",
                )
            values.append(float(size))
        rows.append(values)
    renditions = tuple(
        Rendition(
            id=f"q{q}",
            bandwidth_bps=round(kbps * 1000),
            segments=tuple(SegmentRef(url=None, size_bits=row[q]) for row in rows),
        )
        for q, kbps in enumerate(kbps_values)
    )
    duration_s = float(duration_ms) / 1000.0
    return Presentation(renditions, (duration_s,) * len(rows), source=source)


def _positive(value: object) -> TypeGuard[int | float]:
    """A finite number > 0 (JSON true/false are ints to Python: not sizes)."""
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


def _list(value: object) -> TypeGuard[Sequence[object]]:
    return isinstance(value, Sequence) and not isinstance(value, str | bytes)
