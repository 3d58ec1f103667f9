"""Sabre-style video JSON: `segment_duration_ms`, `bitrates_kbps`, `segment_sizes_bits[segment][rendition]`."""

from __future__ import annotations

from collections.abc import Mapping

from abr.manifests.errors import ManifestError
from abr.presentation import Presentation, Rendition, SegmentRef


def parse_sabre_video(data: Mapping[str, object], source: str = "") -> Presentation:
    for key in ("segment_duration_ms", "bitrates_kbps", "segment_sizes_bits"):
        if key not in data:
            raise ManifestError(source, f"missing key {key!r}")
    duration_ms = data["segment_duration_ms"]
    bitrates = data["bitrates_kbps"]
    sizes = data["segment_sizes_bits"]
    if not _positive_number(duration_ms):
        raise ManifestError(
            source, f"segment_duration_ms must be a positive number, not {duration_ms!r}"
        )
    if (
        not isinstance(bitrates, list)
        or not bitrates
        or not all(_positive_number(b) for b in bitrates)
    ):
        raise ManifestError(source, "bitrates_kbps must be a non-empty list of positive numbers")
    if bitrates != sorted(bitrates):
        raise ManifestError(source, "bitrates_kbps must be in ascending order")
    if not isinstance(sizes, list) or not sizes:
        raise ManifestError(source, "segment_sizes_bits must be a non-empty list of rows")
    for i, row in enumerate(sizes):
        if not isinstance(row, list) or len(row) != len(bitrates):
            raise ManifestError(
                source, f"segment {i}: expected {len(bitrates)} sizes, one per bitrate"
            )
        if not all(_positive_number(s) for s in row):
            raise ManifestError(source, f"segment {i}: sizes must be positive numbers")
    assert isinstance(duration_ms, int | float)
    renditions = tuple(
        Rendition(
            id=f"q{q}",
            bandwidth_bps=round(float(kbps) * 1000),
            segments=tuple(SegmentRef(url=None, size_bits=float(row[q])) for row in sizes),
        )
        for q, kbps in enumerate(bitrates)
    )
    duration_s = float(duration_ms) / 1000.0
    return Presentation(renditions, (duration_s,) * len(sizes), source=source)


def _positive_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0
