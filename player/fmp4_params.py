"""H.264 parameter sets carried into the first sample after an fMP4 rendition switch.

The player feeds one continuous stream with the first rendition's init segment only. When a
ladder repeats its SPS/PPS in every keyframe (the backend's does) a switch needs nothing
more; otherwise the decoder would read the new rendition's slices with the old rendition's
parameter sets. So the new rendition's SPS/PPS (from its `avcC`) are written in front of the
first sample of the first segment after a switch, and the sizes that frame it (trun sample
size, mdat size, sidx reference size) grow to match. Anything this does not recognise (not
AVC, several track fragments, no per-sample sizes) is passed through unchanged.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass

_CONTAINERS = {b"moov", b"trak", b"mdia", b"minf", b"stbl", b"moof", b"traf"}
_SAMPLE_ENTRY_CHILDREN = 8 + 78  # box header + VisualSampleEntry fields before child boxes


@dataclass(frozen=True)
class ParameterSets:
    length_size: int  # bytes of each NAL unit's length prefix in the samples
    nal_units: tuple[bytes, ...]  # SPS then PPS

    def prefix(self) -> bytes:
        return b"".join(len(n).to_bytes(self.length_size, "big") + n for n in self.nal_units)


@dataclass(frozen=True)
class _Box:
    kind: bytes
    start: int
    header: int
    end: int


def _boxes(data: bytes, start: int, end: int) -> Iterator[_Box]:
    at = start
    while at + 8 <= end:
        size, kind = struct.unpack_from(">I4s", data, at)
        header = 8
        if size == 1:
            if at + 16 > end:
                return
            size = struct.unpack_from(">Q", data, at + 8)[0]
            header = 16
        elif size == 0:
            size = end - at
        if size < header or at + size > end:
            return
        yield _Box(kind, at, header, at + size)
        at += size


def _find(data: bytes, start: int, end: int, path: tuple[bytes, ...]) -> _Box | None:
    for box in _boxes(data, start, end):
        if box.kind != path[0]:
            continue
        if len(path) == 1:
            return box
        return _find(data, box.start + box.header, box.end, path[1:])
    return None


def avc_parameter_sets(init: bytes) -> ParameterSets | None:
    """The SPS/PPS of an init segment's AVC sample entry, or None if it has none."""
    stsd = _find(init, 0, len(init), (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"))
    if stsd is None:
        return None
    entries = stsd.start + stsd.header + 8  # version/flags and entry_count
    for entry in _boxes(init, entries, stsd.end):
        if entry.kind not in (b"avc1", b"avc3"):
            continue
        avcc = _find(init, entry.start + _SAMPLE_ENTRY_CHILDREN, entry.end, (b"avcC",))
        if avcc is None:
            return None
        return _parse_avcc(init[avcc.start + avcc.header : avcc.end])
    return None


def _parse_avcc(body: bytes) -> ParameterSets | None:
    try:
        length_size = (body[4] & 0x03) + 1
        at = 5
        units: list[bytes] = []
        for mask in (0x1F, 0xFF):  # SPS count (5 bits), then PPS count
            count = body[at] & mask
            at += 1
            for _ in range(count):
                (size,) = struct.unpack_from(">H", body, at)
                units.append(body[at + 2 : at + 2 + size])
                at += 2 + size
    except (IndexError, struct.error):
        return None
    return ParameterSets(length_size, tuple(units)) if units else None


def with_parameter_sets(segment: bytes, params: ParameterSets) -> bytes:
    """`segment` with `params` in front of its first sample; unchanged if it cannot be done."""
    boxes = list(_boxes(segment, 0, len(segment)))
    moof = next((b for b in boxes if b.kind == b"moof"), None)
    if moof is None:
        return segment
    trafs = [b for b in _boxes(segment, moof.start + moof.header, moof.end) if b.kind == b"traf"]
    if len(trafs) != 1:
        return segment
    trun = _find(segment, trafs[0].start + trafs[0].header, trafs[0].end, (b"trun",))
    if trun is None:
        return segment
    body = trun.start + trun.header
    flags = int.from_bytes(segment[body + 1 : body + 4], "big")
    if not flags & 0x001 or not flags & 0x200:  # need the data offset and per-sample sizes
        return segment
    (data_offset,) = struct.unpack_from(">i", segment, body + 8)
    size_at = body + 12 + (4 if flags & 0x004 else 0) + (4 if flags & 0x100 else 0)
    insert_at = moof.start + data_offset
    mdat = next((b for b in boxes if b.kind == b"mdat" and b.start < insert_at <= b.end), None)
    if mdat is None:
        return segment
    prefix = params.prefix()
    out = bytearray(segment)
    struct.pack_into(">I", out, size_at, struct.unpack_from(">I", out, size_at)[0] + len(prefix))
    if mdat.header == 16:
        struct.pack_into(">Q", out, mdat.start + 8, mdat.end - mdat.start + len(prefix))
    else:
        struct.pack_into(">I", out, mdat.start, mdat.end - mdat.start + len(prefix))
    sidx = next((b for b in boxes if b.kind == b"sidx" and b.end <= moof.start), None)
    if sidx is not None:
        _grow_first_reference(out, sidx, len(prefix))
    out[insert_at:insert_at] = prefix
    return bytes(out)


def _grow_first_reference(out: bytearray, sidx: _Box, extra: int) -> None:
    body = sidx.start + sidx.header
    version = out[body]
    first_ref = body + 4 + 8 + (16 if version else 8) + 4  # ids, timescale, times, count
    if first_ref + 4 > sidx.end:
        return
    word = struct.unpack_from(">I", out, first_ref)[0]
    size = (word & 0x7FFFFFFF) + extra
    struct.pack_into(">I", out, first_ref, (word & 0x80000000) | size)
