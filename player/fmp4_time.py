"""Live fMP4 segments retimed onto the presentation's timeline before libmpv reads them.

The player feeds libmpv one continuous stream per seek. A live channel's media time is the
encoder's: it starts again near zero when the encoder restarts (a new DASH Period, an HLS
EXT-X-DISCONTINUITY), and in HLS it has no relation to the playlist's positions at all. Within
one stream that would be time going backwards. So each live segment's decode times (`tfdt`,
every track fragment) are shifted, keeping their spacing, so that the segment starts at its
presentation time: libmpv's `time-pos` is then the session's position, across restarts and
seeks, as it is for VOD. The shift keeps the box sizes (a version-0 `tfdt` that cannot hold
the new time is left as it was), so `trun` data offsets stay valid.
"""

from __future__ import annotations

import struct

from player.fmp4_params import _boxes, _find


def track_timescale(init: bytes) -> int | None:
    """The first track's media timescale (ticks per second) from an init segment's `mdhd`."""
    mdhd = _find(init, 0, len(init), (b"moov", b"trak", b"mdia", b"mdhd"))
    if mdhd is None:
        return None
    body = mdhd.start + mdhd.header
    at = body + (4 + 16 if init[body] == 1 else 4 + 8)  # version/flags, creation/modification
    if at + 4 > mdhd.end:
        return None
    scale = int(struct.unpack_from(">I", init, at)[0])
    return scale or None


def retimed(segment: bytes, timescale: int, start_s: float) -> bytes:
    """`segment` with its first decode time at `start_s` (later fragments shifted alike);
    unchanged when it has no `tfdt` or a time does not fit its box."""
    tfdts = [
        tfdt
        for moof in _boxes(segment, 0, len(segment))
        if moof.kind == b"moof"
        for traf in _boxes(segment, moof.start + moof.header, moof.end)
        if traf.kind == b"traf"
        if (tfdt := _find(segment, traf.start + traf.header, traf.end, (b"tfdt",))) is not None
    ]
    if not tfdts:
        return segment
    out = bytearray(segment)
    shift: int | None = None
    for tfdt in tfdts:
        body = tfdt.start + tfdt.header
        wide = out[body] == 1
        fmt = ">Q" if wide else ">I"
        (time,) = struct.unpack_from(fmt, out, body + 4)
        if shift is None:
            shift = round(start_s * timescale) - time
        new = time + shift
        if not 0 <= new < (1 << (64 if wide else 32)):
            return segment
        struct.pack_into(fmt, out, body + 4, new)
    return bytes(out)
