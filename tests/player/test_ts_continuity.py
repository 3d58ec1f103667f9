"""Joining TS segments of two renditions: continuity counters carry on, so the demuxer sees
one continuous stream instead of corrupt packets."""

from __future__ import annotations

import subprocess
from pathlib import Path

from player.ts_continuity import PACKET, ContinuityRewriter, is_ts


def packet(pid: int, counter: int, payload: bool = True) -> bytes:
    flags = (0x10 if payload else 0x20) | counter
    return bytes([0x47, pid >> 8, pid & 0xFF, flags]) + bytes(PACKET - 4)


def counters(data: bytes, pid: int) -> list[int]:
    out = []
    for i in range(0, len(data), PACKET):
        if ((data[i + 1] & 0x1F) << 8 | data[i + 2]) == pid and data[i + 3] & 0x10:
            out.append(data[i + 3] & 0x0F)
    return out


def test_counters_continue_across_the_join_per_pid() -> None:
    first = b"".join(packet(0x100, c % 16) for c in range(20))
    second = (
        b"".join(packet(0x100, c) for c in range(5))
        + packet(0x101, 9)
        + packet(0x100, 0, payload=False)
    )
    rewriter = ContinuityRewriter()
    joined = rewriter.rewrite(first) + rewriter.rewrite(second)
    assert counters(joined, 0x100) == [c % 16 for c in range(25)]
    assert counters(joined, 0x101) == [9]  # a PID's first packet keeps its own counter
    assert joined[-PACKET + 3] & 0x0F == 0  # no payload: counter untouched
    assert is_ts(joined) and not is_ts(b"<MPD" + bytes(400))


def corrupt_reports(data: bytes) -> int:
    proc = subprocess.run(
        ["ffmpeg", "-v", "warning", "-f", "mpegts", "-i", "-", "-f", "null", "-"],
        input=data,
        capture_output=True,
        timeout=60,
    )
    text = proc.stderr.decode(errors="replace").lower()
    return text.count("corrupt") + text.count("continuity")


def test_real_renditions_joined_decode_without_corruption(ladder: dict[str, Path]) -> None:
    root = ladder["hls_ts"].parent
    low, high = root / "v0" / "seg000.ts", root / "v2" / "seg001.ts"
    raw = low.read_bytes() + high.read_bytes()
    rewriter = ContinuityRewriter()
    fixed = rewriter.rewrite(low.read_bytes()) + rewriter.rewrite(high.read_bytes())
    assert corrupt_reports(raw) > 0  # the problem is real
    assert corrupt_reports(fixed) == 0
