"""The ISO BMFF segment index box ('sidx', ISO/IEC 14496-12 8.16.3): bytes in, references out.

Written here rather than taken from pymp4 (the one PyPI parser with a sidx definition): pymp4
pins one exact `construct` release and has had none since 2023, its box is a dozen fixed
fields, and its errors would still need the bounds and messages below. This parser reads only
what it was given, checks every length against it, and raises ManifestError for anything else.

Refused: hierarchical indexes (reference_type 1, a reference to a further sidx), which the
on-demand packagers (Shaka Packager, ffmpeg, MP4Box by default) do not write.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

from abr.manifests.errors import ManifestError

_HEADER = struct.Struct(">I4s")
_LARGE_SIZE = struct.Struct(">Q")
_V0 = struct.Struct(">B3xIIIIHH")  # version, flags, reference_ID, timescale, ept, offset, -, count
_V1 = struct.Struct(">B3xIIQQHH")
_REFERENCE = struct.Struct(">III")


@dataclass(frozen=True, slots=True)
class SidxReference:
    """One subsegment: `size` bytes lasting `duration` timescale units."""

    size: int
    duration: int
    starts_with_sap: bool
    sap_type: int
    sap_delta_time: int


@dataclass(frozen=True, slots=True)
class SegmentIndex:
    version: int
    reference_id: int
    timescale: int
    earliest_presentation_time: int
    first_offset: int  # from the anchor (the first byte after the box) to the first subsegment
    references: tuple[SidxReference, ...]
    end: int  # offset of the anchor in the bytes given to `parse_sidx`


def parse_sidx(data: bytes, source: str, rendition_id: str) -> SegmentIndex:
    """The first sidx box in `data` (the bytes of the MPD's @indexRange), skipping other boxes
    before it (an @indexRangeExact="false" range may start with them)."""

    def error(reason: str) -> ManifestError:
        return ManifestError(source, f"rendition {rendition_id!r}: segment index: {reason}")

    offset = 0
    while True:
        if len(data) - offset < _HEADER.size:
            raise error(f"no sidx box in the {len(data)} bytes of the index range")
        size, kind = _HEADER.unpack_from(data, offset)
        header = _HEADER.size
        if size == 1:  # a 64-bit size follows the type
            if len(data) - offset < header + _LARGE_SIZE.size:
                raise error(f"box at byte {offset} is truncated")
            (size,) = _LARGE_SIZE.unpack_from(data, offset + header)
            header += _LARGE_SIZE.size
        elif size == 0:  # the box runs to the end of the file: here, of what we have
            size = len(data) - offset
        if size < header:
            raise error(f"box at byte {offset} declares {size} bytes, less than its header")
        if size > len(data) - offset:
            if kind != b"sidx":
                raise error(f"no sidx box before byte {offset} of the index range")
            raise error(f"box declares {size} bytes, the index range holds {len(data) - offset}")
        if kind == b"sidx":
            return _body(data[offset + header : offset + size], offset + size, error)
        offset += size


def _body(body: bytes, end: int, error: Callable[[str], ManifestError]) -> SegmentIndex:
    if not body:
        raise error("empty sidx box")
    version = body[0]
    if version not in (0, 1):
        raise error(f"sidx version {version} is unknown (0 and 1 are defined)")
    fixed = _V0 if version == 0 else _V1
    if len(body) < fixed.size:
        raise error(f"sidx box of {len(body)} bytes is too short for its fields")
    _, reference_id, timescale, earliest, first_offset, _, count = fixed.unpack_from(body)
    if timescale == 0:
        raise error("timescale 0")
    if count == 0:
        raise error("no references")
    needed = fixed.size + count * _REFERENCE.size
    if len(body) != needed:
        raise error(f"{count} references need a {needed}-byte box body, it has {len(body)}")
    references = []
    for i in range(count):
        word, duration, sap = _REFERENCE.unpack_from(body, fixed.size + i * _REFERENCE.size)
        if word >> 31:
            raise error(
                f"reference {i} points at a further sidx box (a hierarchical index), "
                "which is not supported"
            )
        size = word & 0x7FFF_FFFF
        if size == 0 or duration == 0:
            raise error(f"reference {i} is empty ({size} bytes, duration {duration})")
        references.append(
            SidxReference(size, duration, bool(sap >> 31), (sap >> 28) & 0x7, sap & 0x0FFF_FFFF)
        )
    return SegmentIndex(
        version, reference_id, timescale, earliest, first_offset, tuple(references), end
    )
