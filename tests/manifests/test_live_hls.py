"""Live, EVENT and VOD media playlists: the window, its numbers, discontinuities and dates."""

from __future__ import annotations

import pytest

from abr.manifests import ManifestError, media_playlist_urls, parse_hls
from abr.presentation import Presentation

BASE = "http://cdn.test/live/master.m3u8"
LOW, HIGH = "http://cdn.test/live/low.m3u8", "http://cdn.test/live/high.m3u8"
MASTER = (
    "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=426x240\nlow.m3u8\n"
    "#EXT-X-STREAM-INF:BANDWIDTH=900000,RESOLUTION=854x480\nhigh.m3u8\n"
)


def playlist(
    first: int, count: int, *, name: str = "s", extra: str = "", tail: str = "", dates: bool = True
) -> str:
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:4", f"#EXT-X-MEDIA-SEQUENCE:{first}", extra]
    for n in range(first, first + count):
        if dates:
            lines.append(
                f"#EXT-X-PROGRAM-DATE-TIME:2026-01-01T00:{n * 4 // 60:02d}:{n * 4 % 60:02d}Z"
            )
        lines += ["#EXTINF:4.0,", f"{name}{n}.ts"]
    return "\n".join(line for line in lines if line) + "\n" + tail


def one(text: str) -> Presentation:
    """A master with one variant around a media playlist (which has no BANDWIDTH itself)."""
    return parse_hls(MASTER.split("#EXT-X-STREAM-INF:BANDWIDTH=900000")[0], BASE, {LOW: text})


def names(presentation: object, rung: int = 0) -> list[str]:
    segments = presentation.renditions[rung].segments  # type: ignore[attr-defined]
    return [s.url.rsplit("/", 1)[1] for s in segments]


def test_a_sliding_window_is_live_numbered_by_its_media_sequence() -> None:
    p = one(playlist(100, 5))
    t = p.timeline
    assert t.live and not t.ended and not t.start_is_absolute
    assert t.first_number == 100 and names(p) == [f"s{n}.ts" for n in range(100, 105)]
    assert (t.window_s, t.refresh_s) == (20.0, 4.0)
    # Program date-time of segment 100 is 00:06:40; each is complete 4 s after it starts.
    assert t.available_at_utc_s == tuple(1767225600.0 + n * 4 + 4 for n in range(100, 105))


def test_without_program_date_time_availability_is_unknown() -> None:
    assert one(playlist(7, 3, dates=False)).timeline.available_at_utc_s is None


def test_event_vod_and_endlist() -> None:
    event = one(playlist(0, 3, extra="#EXT-X-PLAYLIST-TYPE:EVENT")).timeline
    assert event.live and not event.ended
    for text in (
        playlist(0, 3, extra="#EXT-X-PLAYLIST-TYPE:VOD"),
        playlist(0, 3, tail="#EXT-X-ENDLIST\n"),
    ):
        t = one(text).timeline
        assert not t.live and t.ended and t.refresh_s is None


def test_discontinuities_and_a_new_map_after_one() -> None:
    text = (
        "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MEDIA-SEQUENCE:20\n"
        "#EXT-X-DISCONTINUITY-SEQUENCE:3\n"
        '#EXT-X-MAP:URI="main-init.mp4"\n#EXTINF:4,\nm20.m4s\n#EXTINF:4,\nm21.m4s\n'
        '#EXT-X-DISCONTINUITY\n#EXT-X-MAP:URI="ad-init.mp4"\n#EXTINF:4,\nad22.m4s\n'
        "#EXTINF:4,\nad23.m4s\n"
    )
    p = one(text)
    assert p.timeline.discontinuities == (2,) and p.timeline.discontinuity_sequence == 3
    rendition = p.renditions[0]
    assert rendition.init is not None and rendition.init.url == "http://cdn.test/live/main-init.mp4"
    inits = [s.init.url.rsplit("/", 1)[1] if s.init else None for s in rendition.segments]
    assert inits == [None, None, "ad-init.mp4", "ad-init.mp4"]


def test_live_variants_keep_the_numbers_they_all_hold() -> None:
    assert media_playlist_urls(MASTER, BASE) == [LOW, HIGH]
    # The high variant was written one segment later: it has dropped 10 and added 15.
    p = parse_hls(MASTER, BASE, {LOW: playlist(10, 5, name="l"), HIGH: playlist(11, 5, name="h")})
    assert p.timeline.first_number == 11 and p.segment_count == 4
    assert names(p, 0) == ["l11.ts", "l12.ts", "l13.ts", "l14.ts"]
    assert names(p, 1) == ["h11.ts", "h12.ts", "h13.ts", "h14.ts"]


def test_variants_with_no_number_in_common_are_refused() -> None:
    with pytest.raises(ManifestError, match="the variants share no media sequence number"):
        parse_hls(MASTER, BASE, {LOW: playlist(10, 3), HIGH: playlist(20, 3)})


def test_a_discontinuity_that_slides_out_counts_in_the_sequence() -> None:
    low = playlist(10, 4, extra="#EXT-X-DISCONTINUITY-SEQUENCE:2").replace(
        "#EXTINF:4.0,\ns11.ts", "#EXT-X-DISCONTINUITY\n#EXTINF:4.0,\ns11.ts"
    )
    high = playlist(12, 2, extra="#EXT-X-DISCONTINUITY-SEQUENCE:3")
    t = parse_hls(MASTER, BASE, {LOW: low, HIGH: high}).timeline
    assert (t.first_number, t.discontinuity_sequence, t.discontinuities) == (12, 3, ())
