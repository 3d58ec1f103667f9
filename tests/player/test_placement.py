"""Placing fMP4 segments on the presentation timeline (ffmpeg's CMAF ladder from conftest): a
live segment's decode time lands at its presentation time, fragments keep their spacing and
size; on demand, the first run is untouched and a later run moves as one block."""

from __future__ import annotations

import struct
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from player.fmp4_params import _boxes, _find
from player.media_segment import MediaSegment
from player.placement import Placement
from player.timestamps import fmp4_timescale


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


def _segment(ladder: dict[str, Path], n: int, start_s: float, run: int, live: bool) -> MediaSegment:
    folder = ladder["dash"].parent
    data = (folder / f"chunk-0-0000{n}.m4s").read_bytes()
    return MediaSegment(n, 0, data, (folder / "init-0.m4s").read_bytes(), start_s, run, live)


@settings(max_examples=50, deadline=None)
@given(st.floats(0.0, 1e6), st.sampled_from([1, 2, 3]))
def test_a_live_segment_starts_at_its_presentation_time(
    ladder: dict[str, Path], start_s: float, n: int
) -> None:
    segment = _segment(ladder, n, start_s, 0, live=True)
    before = decode_times(segment.data)
    placed = Placement().placed(segment)
    after = decode_times(placed)
    assert after[0] == round(start_s * 12288)
    assert [t - after[0] for t in after] == [t - before[0] for t in before]
    assert len(placed) == len(segment.data)


@settings(max_examples=30, deadline=None)
@given(st.floats(0.0, 1e4))
def test_a_later_run_moves_as_one_block_and_the_first_stays(
    ladder: dict[str, Path], period_s: float
) -> None:
    """Segments 1 and 2 played as the first run, then 2 and 3 again as a second run starting
    at `period_s` (a Period that repeats them): the second run keeps its own spacing."""
    placement = Placement()
    first = [_segment(ladder, n, 2.0 * (n - 1), 0, live=False) for n in (1, 2)]
    assert [placement.placed(s) for s in first] == [s.data for s in first]
    later = [_segment(ladder, n, period_s + 2.0 * (n - 2), 1, live=False) for n in (2, 3)]
    times = [decode_times(placement.placed(s))[0] for s in later]
    assert times[0] == round(period_s * 12288)
    assert times[1] - times[0] == decode_times(later[1].data)[0] - decode_times(later[0].data)[0]


def test_what_has_no_decode_time_passes_unchanged() -> None:
    junk = b"\x00\x00\x00\x08free"
    assert Placement().placed(MediaSegment(0, 0, junk, b"init", 5.0, 0, True)) == junk
