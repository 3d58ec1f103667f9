"""Parser leftovers of the timeline work: a live SegmentList is windowed like a template, a
live HLS audio playlist is cut to the video's numbers, and protection must agree across
Periods."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abr.manifests import (
    ManifestError,
    dash_content_protection,
    hls_audio_rendition,
    parse_dash,
    parse_hls,
)
from abr.presentation import MediaTrack

MPD_URL = "https://cdn.test/live/manifest.mpd"
START = "2026-01-01T00:00:00Z"
START_UTC_S = 1767225600.0


def live_mpd(addressing: str, depth_s: float) -> str:
    return f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"
      availabilityStartTime="{START}" timeShiftBufferDepth="PT{depth_s:g}S"
      minimumUpdatePeriod="PT2S">
      <Period id="p" start="PT0S"><AdaptationSet contentType="video">
        <Representation id="v" bandwidth="800000">{addressing}</Representation>
      </AdaptationSet></Period></MPD>"""


TEMPLATE = '<SegmentTemplate timescale="10" duration="20" media="s$Number$.m4s" startNumber="5"/>'
LISTED = (
    '<SegmentList timescale="10" duration="20" startNumber="5">'
    + "".join(f'<SegmentURL media="s{n}.m4s"/>' for n in range(5, 25))
    + "</SegmentList>"
)


def test_a_live_segment_list_keeps_what_is_in_the_window_and_available() -> None:
    # 11 s after the start, a 4 s window: segments ending at 8 and 10 s (numbers 8 and 9).
    p = parse_dash(live_mpd(LISTED, 4), MPD_URL, now_utc_s=START_UTC_S + 11)
    assert [s.url for s in p.renditions[0].segments] == [
        "https://cdn.test/live/s8.m4s",
        "https://cdn.test/live/s9.m4s",
    ]
    assert (p.timeline.first_number, p.timeline.start_s) == (8, 6.0)
    assert p.timeline.available_at_utc_s == (START_UTC_S + 8, START_UTC_S + 10)


@given(
    now_s=st.floats(min_value=0, max_value=40, allow_nan=False),
    depth_s=st.integers(min_value=1, max_value=30),
)
def test_a_live_segment_list_and_template_offer_the_same_segments(
    now_s: float, depth_s: int
) -> None:
    def offered(addressing: str) -> object:
        try:
            p = parse_dash(live_mpd(addressing, depth_s), MPD_URL, now_utc_s=START_UTC_S + now_s)
        except ManifestError as exc:
            return exc.reason
        return (
            [s.url for s in p.renditions[0].segments],
            p.timeline.first_number,
            p.timeline.start_s,
            p.timeline.available_at_utc_s,
        )

    assert offered(LISTED) == offered(TEMPLATE)


def two_periods(first: str, second: str) -> str:
    def period(name: str, protection: str) -> str:
        reps = "".join(
            f'<Representation id="{name}-{rate}" bandwidth="{rate}">{protection}</Representation>'
            for rate in (400000, 800000)
        )
        return f"""<Period id="{name}" duration="PT4S"><AdaptationSet contentType="video">
          <SegmentTemplate timescale="1" duration="2" media="{name}/$RepresentationID$-$Number$.m4s"
            initialization="{name}/$RepresentationID$-init.m4s"/>{reps}</AdaptationSet></Period>"""

    return f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011"
      xmlns:cenc="urn:mpeg:cenc:2013" type="static" mediaPresentationDuration="PT8S">
      {period("show", first)}{period("break", second)}</MPD>"""


CENC = (
    '<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"'
    ' cenc:default_KID="00112233-4455-6677-8899-aabbccddeeff"/>'
)


def test_protection_of_several_periods_is_the_first_when_they_agree() -> None:
    protection = dash_content_protection(two_periods(CENC, CENC), MPD_URL)
    assert sorted(protection) == ["show-400000", "show-800000"]
    assert all(
        p[0].default_kid == "00112233-4455-6677-8899-aabbccddeeff" for p in protection.values()
    )


def test_a_period_protected_otherwise_is_refused_by_name() -> None:
    text = two_periods(CENC, "")  # a clear break in an encrypted title
    assert parse_dash(text, MPD_URL).segment_count == 4  # the ladder itself is fine
    with pytest.raises(
        ManifestError, match="Period 'break' protects Representation 'break-400000'"
    ):
        dash_content_protection(text, MPD_URL)


MASTER = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="en",DEFAULT=YES,URI="audio.m3u8"
#EXT-X-STREAM-INF:BANDWIDTH=800000,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aud"
video.m3u8
"""


def live_playlist(first: int, count: int) -> str:
    lines = ["#EXTM3U", "#EXT-X-TARGETDURATION:2", f"#EXT-X-MEDIA-SEQUENCE:{first}"]
    for n in range(first, first + count):
        lines += ["#EXTINF:2.0,", f"seg{n}.ts"]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("audio_first", "audio_count", "expected"), [(8, 6, 4), (10, 3, 3)])
def test_a_live_audio_playlist_is_cut_to_the_video_numbers(
    audio_first: int, audio_count: int, expected: int
) -> None:
    """Video holds 10-13; the audio slid less far (8-13) or is a segment behind (10-12)."""
    url = "https://cdn.test/live/master.m3u8"
    video = parse_hls(MASTER, url, {"https://cdn.test/live/video.m3u8": live_playlist(10, 4)})
    track = video.audio_tracks[0]
    audio = hls_audio_rendition(track, live_playlist(audio_first, audio_count), video)
    names = [s.url.rsplit("/", 1)[1] for s in audio.segments if s.url]
    assert names == [f"seg{n}.ts" for n in range(10, 10 + expected)]


def test_a_live_audio_playlist_past_the_video_is_refused() -> None:
    url = "https://cdn.test/live/master.m3u8"
    video = parse_hls(MASTER, url, {"https://cdn.test/live/video.m3u8": live_playlist(10, 4)})
    track = MediaTrack(kind="audio", id="aud/en", url="https://cdn.test/live/audio.m3u8")
    with pytest.raises(
        ManifestError, match="holds media sequence numbers 12 to 15, the video from 10"
    ):
        hls_audio_rendition(track, live_playlist(12, 4), video)
