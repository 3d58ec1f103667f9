"""Placing live fMP4 segments at their presentation time (ffmpeg's CMAF ladder from conftest): the decode time lands
where asked and fragments keep their spacing and size."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from player.fmp4_params import _boxes, _find
from player.timestamps import fmp4_at, fmp4_timescale


def decode_times(segment: bytes) -> list[int]:
    times = []
    for moof in _boxes(segment, 0, len(segment)):
        if moof.kind != b"moof":
            continue
        traf = _find(segment, moof.start + moof.header, moof.end, (b"traf", b"tfdt"))
        assert traf is not None
        body = traf.start + traf.header
        times.append(struct.unpack_from(">Q" if segment[body] else ">I", segment, body + 4)[0])
    return times


def test_the_timescale_comes_from_the_init(ladder: dict[str, Path]) -> None:
    init = (ladder["dash"].parent / "init-0.m4s").read_bytes()
    assert fmp4_timescale(init) == 12288  # 24 fps: ffmpeg's 512 ticks per frame
    assert fmp4_timescale(b"not an init") is None


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 1e6), st.sampled_from([1, 2, 3]))
def test_a_segment_starts_where_asked(ladder: dict[str, Path], start_s: float, n: int) -> None:
    segment = (ladder["dash"].parent / f"chunk-0-0000{n}.m4s").read_bytes()
    before = decode_times(segment)
    after = decode_times(fmp4_at(segment, 12288, start_s))
    assert after[0] == round(start_s * 12288)
    assert [t - after[0] for t in after] == [t - before[0] for t in before]
    assert len(fmp4_at(segment, 12288, start_s)) == len(segment)


def test_what_has_no_decode_time_passes_unchanged() -> None:
    assert fmp4_at(b"\x00\x00\x00\x08free", 1000, 5.0) == b"\x00\x00\x00\x08free"
