"""Media timestamps moved, so that one stream stays continuous across discontinuities.

The player feeds libmpv one non-seekable stream; to libavformat it is a single container, so
a later DASH Period or the segments after an HLS EXT-X-DISCONTINUITY keep their own
timestamps: a jump forward made mpv wait out the gap (measured: 44 s of a still picture for
a second Period stamped 50 s), a jump back made it report a time-pos the presentation
never had. Rewriting the timestamps (fMP4 `tfdt`, MPEG-TS PES PTS/DTS and PCR) by a constant
per run of continuous timestamps costs a pass over the bytes and keeps mpv's demuxer and
decoder running; starting a new mpv stream per run would instead reopen, reprobe and reset the
decoder at each boundary and need its own mapping of time-pos. The presentation timeline
says where each segment belongs, which is where its timestamps are moved to.
"""

from __future__ import annotations

import struct

from player.fmp4_params import _boxes, _find
from player.ts_continuity import PACKET, SYNC

_TS_WRAP = 1 << 33  # PTS, DTS and the PCR base count 90 kHz ticks in 33 bits
TS_TIMESCALE = 90_000


def fmp4_timescale(init: bytes) -> int | None:
    """The (first) track's timescale from an init segment's `mdhd`, or None."""
    mdhd = _find(init, 0, len(init), (b"moov", b"trak", b"mdia", b"mdhd"))
    if mdhd is None:
        return None
    body = mdhd.start + mdhd.header
    at = body + (20 if init[body] == 1 else 12)  # after version/flags and the two times
    if at + 4 > mdhd.end:
        return None
    timescale: int = struct.unpack_from(">I", init, at)[0]
    return timescale or None


def _tfdts(segment: bytes) -> list[int]:
    """Offsets of every `tfdt` box in a media segment."""
    found = []
    for moof in _boxes(segment, 0, len(segment)):
        if moof.kind != b"moof":
            continue
        for traf in _boxes(segment, moof.start + moof.header, moof.end):
            if traf.kind == b"traf":
                tfdt = _find(segment, traf.start + traf.header, traf.end, (b"tfdt",))
                if tfdt is not None:
                    found.append(tfdt.start + tfdt.header)
    return found


def fmp4_start(segment: bytes) -> int | None:
    """The first fragment's base media decode time, in the track's timescale."""
    offsets = _tfdts(segment)
    if not offsets:
        return None
    at = offsets[0]
    return int(struct.unpack_from(">Q" if segment[at] == 1 else ">I", segment, at + 4)[0])


def shift_fmp4(segment: bytes, ticks: int) -> bytes:
    """Every `tfdt` moved by `ticks`; unchanged where the result would not fit the box."""
    out = bytearray(segment)
    for at in _tfdts(segment):
        wide = segment[at] == 1
        fmt = ">Q" if wide else ">I"
        moved = struct.unpack_from(fmt, segment, at + 4)[0] + ticks
        if 0 <= moved < (1 << (64 if wide else 32)):
            struct.pack_into(fmt, out, at + 4, moved)
    return bytes(out)


def ts_start(data: bytes) -> int | None:
    """The first PES packet's PTS, in 90 kHz ticks."""
    for at in _pes_headers(data):
        if data[at + 7] & 0x80:
            return _read_timestamp(data, at + 9)
    return None


def shift_ts(data: bytes, ticks: int) -> bytes:
    """PTS, DTS and PCR of every packet moved by `ticks` (modulo 2^33, as they wrap)."""
    out = bytearray(data)
    for offset in range(0, len(out) - PACKET + 1, PACKET):
        if out[offset] != SYNC:
            break  # not a packet boundary: leave the rest as it came
        if out[offset + 3] & 0x20 and out[offset + 4] >= 7 and out[offset + 5] & 0x10:
            at = offset + 6  # the PCR: a 33-bit base (90 kHz), 6 reserved bits, a 9-bit extension
            raw = int.from_bytes(out[at : at + 6], "big")
            base = ((raw >> 15) + ticks) % _TS_WRAP
            out[at : at + 6] = ((base << 15) | (raw & 0x7FFF)).to_bytes(6, "big")
    for at in _pes_headers(data):
        flags = out[at + 7] >> 6  # 2: PTS, 3: PTS and DTS
        for field in range(2 if flags == 3 else 1 if flags == 2 else 0):
            where = at + 9 + 5 * field
            _write_timestamp(out, where, (_read_timestamp(out, where) + ticks) % _TS_WRAP)
    return bytes(out)


def _pes_headers(data: bytes) -> list[int]:
    """Offsets of the PES headers that start in the packets (with room for a PTS and DTS)."""
    found = []
    for offset in range(0, len(data) - PACKET + 1, PACKET):
        if data[offset] != SYNC:
            break
        flags = data[offset + 3]
        if not data[offset + 1] & 0x40 or not flags & 0x10:  # no payload unit starts here
            continue
        at = offset + 4 + (1 + data[offset + 4] if flags & 0x20 else 0)
        if at + 19 <= offset + PACKET and data[at : at + 3] == b"\x00\x00\x01":
            stream_id = data[at + 3]
            if 0xC0 <= stream_id <= 0xEF or stream_id == 0xBD:  # audio, video, private 1
                found.append(at)
    return found


def _read_timestamp(data: bytes | bytearray, at: int) -> int:
    b = data[at : at + 5]
    return ((b[0] >> 1) & 0x07) << 30 | b[1] << 22 | (b[2] >> 1) << 15 | b[3] << 7 | b[4] >> 1


def _write_timestamp(out: bytearray, at: int, value: int) -> None:
    prefix = out[at] & 0xF0  # the '0010'/'0011'/'0001' marker of PTS or DTS
    out[at] = prefix | ((value >> 29) & 0x0E) | 1
    out[at + 1] = (value >> 22) & 0xFF
    out[at + 2] = ((value >> 14) & 0xFE) | 1
    out[at + 3] = (value >> 7) & 0xFF
    out[at + 4] = ((value << 1) & 0xFE) | 1
