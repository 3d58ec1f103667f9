"""Moving MPEG-TS timestamps: PTS, DTS and PCR move together, wrap at 2^33, and nothing else
in the packet changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from player.timestamps import shift_ts, ts_start

WRAP = 1 << 33


def packet(pts: int, dts: int, pcr: int) -> bytes:
    def stamp(marker: int, value: int) -> bytes:
        return bytes(
            [
                marker << 4 | (value >> 29) & 0x0E | 1,
                (value >> 22) & 0xFF,
                (value >> 14) & 0xFE | 1,
                (value >> 7) & 0xFF,
                (value << 1) & 0xFE | 1,
            ]
        )

    adaptation = bytes([7, 0x10]) + ((pcr << 15) | 0x7E00 | 5).to_bytes(6, "big")
    pes = b"\x00\x00\x01\xe0\x00\x00\x80\xc0\x0a" + stamp(3, pts) + stamp(1, dts)
    head = bytes([0x47, 0x41, 0x00, 0x30]) + adaptation + pes
    return head + b"\xff" * (188 - len(head))


@given(
    pts=st.integers(0, WRAP - 1),
    dts=st.integers(0, WRAP - 1),
    pcr=st.integers(0, WRAP - 1),
    ticks=st.integers(-WRAP, WRAP),
)
def test_pts_dts_and_pcr_move_together_and_back(pts: int, dts: int, pcr: int, ticks: int) -> None:
    original = packet(pts, dts, pcr)
    moved = shift_ts(original, ticks)
    assert moved == packet((pts + ticks) % WRAP, (dts + ticks) % WRAP, (pcr + ticks) % WRAP)
    assert ts_start(moved) == (pts + ticks) % WRAP
    assert shift_ts(moved, -ticks) == original
