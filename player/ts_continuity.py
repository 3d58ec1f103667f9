"""MPEG-TS continuity counters made continuous across rendition switches.

Each rendition's TS segments count their packets per PID on their own; when the player joins
segments of two renditions, the counter jumps and demuxers report corrupt packets (ffmpeg
drops nothing on fMP4, but logs and may discard on TS). The renditions share PIDs (the backend
packages them so), so renumbering every payload-carrying packet makes the joined stream
look like one continuous multiplex.
"""

from __future__ import annotations

PACKET = 188
SYNC = 0x47


def is_ts(data: bytes) -> bool:
    return len(data) >= PACKET and data[0] == SYNC and (len(data) == PACKET or data[PACKET] == SYNC)


class ContinuityRewriter:
    def __init__(self) -> None:
        self._last: dict[int, int] = {}  # PID -> last continuity counter sent

    def rewrite(self, data: bytes) -> bytes:
        out = bytearray(data)
        for offset in range(0, len(out) - PACKET + 1, PACKET):
            if out[offset] != SYNC:
                break  # not a packet boundary: leave the rest as it came
            pid = ((out[offset + 1] & 0x1F) << 8) | out[offset + 2]
            flags = out[offset + 3]
            if pid == 0x1FFF or not flags & 0x10:  # null packets and packets without payload
                continue
            counter = (self._last.get(pid, (flags & 0x0F) - 1) + 1) & 0x0F
            out[offset + 3] = (flags & 0xF0) | counter
            self._last[pid] = counter
        return bytes(out)
