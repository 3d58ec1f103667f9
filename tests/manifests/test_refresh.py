"""Reloading a live presentation: windows line up by number (HLS) or time (DASH)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abr.manifests import ManifestError, next_reload_delay_s, parse_dash, parse_hls, refreshed
from abr.presentation import Presentation

URL = "http://cdn.test/live/low.m3u8"
MASTER = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nlow.m3u8\n"


def hls(text: str) -> Presentation:
    return parse_hls(MASTER, "http://cdn.test/live/master.m3u8", {URL: text})


def playlist(first: int, durations: list[float], *, tail: str = "", seq: int = 0) -> str:
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:6", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
    lines.append(f"#EXT-X-DISCONTINUITY-SEQUENCE:{seq}")
    for n, d in enumerate(durations, first):
        lines += [f"#EXTINF:{d},", f"s{n}.ts"]
    return "\n".join(lines) + "\n" + tail


def positions(p: Presentation) -> dict[int, float]:
    t = p.timeline
    return {t.first_number + i: t.start_s + p.segment_start_s(i) for i in range(p.segment_count)}


DURATIONS = st.lists(st.floats(0.5, 6.0).map(lambda d: round(d, 3)), min_size=12, max_size=40)


@given(DURATIONS, st.integers(1, 6), st.integers(0, 6), st.integers(0, 1000))
def test_moving_the_window_keeps_every_shared_segments_position(
    durations: list[float], size: int, moved: int, first: int
) -> None:
    """However far a window of `size` segments moves, a segment listed in both loads starts at
    the same position in both, and the counts of dropped and added segments add up."""
    size = min(size, len(durations) - moved)
    old = hls(playlist(first, durations[:size]))
    new = hls(playlist(first + moved, durations[moved : moved + size]))
    refresh = refreshed(old, new)
    before, after = positions(old), positions(refresh.presentation)
    for number in before.keys() & after.keys():
        assert after[number] == pytest.approx(before[number])
    assert refresh.dropped == min(moved, size) and refresh.added == moved
    assert not refresh.reset and not refresh.ended


def test_a_reload_that_goes_backwards_is_refused() -> None:
    old = hls(playlist(50, [4.0] * 5))
    with pytest.raises(ManifestError, match=r"goes backwards: .*number 48 < 50"):
        refreshed(old, hls(playlist(48, [4.0] * 5)))
    with pytest.raises(ManifestError, match="ends at segment number 52, the previous load at 54"):
        refreshed(old, hls(playlist(50, [4.0] * 3)))


def test_a_reused_number_or_a_new_discontinuity_is_a_reset() -> None:
    old = hls(playlist(50, [4.0] * 5))
    restarted = playlist(51, [4.0] * 5).replace("s52.ts", "other.ts")
    assert refreshed(old, hls(restarted)).reset
    assert refreshed(old, hls(playlist(51, [4.0] * 5, seq=1))).reset
    assert not refreshed(old, hls(playlist(51, [4.0] * 5))).reset


def test_endlist_on_a_reload_ends_the_live_session() -> None:
    old = hls(playlist(50, [4.0] * 5))
    refresh = refreshed(old, hls(playlist(50, [4.0] * 6, tail="#EXT-X-ENDLIST\n")))
    assert refresh.ended and refresh.added == 1
    assert positions(refresh.presentation)[54] == positions(old)[54]
    assert next_reload_delay_s(old, refresh.presentation) is None


def test_reload_delay_is_the_target_duration_or_half_of_it_when_unchanged() -> None:
    first = hls(playlist(50, [4.0] * 5))
    assert next_reload_delay_s(None, first) == 6.0
    assert next_reload_delay_s(first, hls(playlist(50, [4.0] * 5))) == 3.0
    assert next_reload_delay_s(first, hls(playlist(51, [4.0] * 5))) == 6.0


MPD = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"
  availabilityStartTime="2026-01-01T00:00:00Z" minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT8S">
  {periods}</MPD>"""
PERIOD = """<Period id="{id}" start="PT{start}S"><AdaptationSet contentType="video">
  <SegmentTemplate timescale="1" duration="2" media="{id}-$Number$.m4s"/>
  <Representation id="v" bandwidth="500000"/></AdaptationSet></Period>"""
AST = 1767225600.0


def test_dash_windows_line_up_by_time_across_a_new_period() -> None:
    text = MPD.format(periods=PERIOD.format(id="a", start=0) + PERIOD.format(id="b", start=20))
    old = parse_dash(text, "http://cdn.test/m.mpd", now_utc_s=AST + 19)
    new = parse_dash(text, "http://cdn.test/m.mpd", now_utc_s=AST + 25)
    assert new.timeline.first_number == 9  # "a" numbers its segments from 1
    refresh = refreshed(old, new)
    # Period "b" numbers from 1 again; the lined-up numbers continue the previous load's.
    assert refresh.presentation.timeline.first_number == old.timeline.first_number + 3
    before, after = positions(old), positions(refresh.presentation)
    assert all(after[n] == before[n] for n in before.keys() & after.keys())
    assert refresh.added == 3 and refresh.dropped == 3 and not refresh.reset
    assert next_reload_delay_s(old, new) == 2.0
