"""Malformed, truncated and unsupported manifests fail with a ManifestError naming the source."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abr.manifests import ManifestError, parse_dash, parse_hls, parse_sabre_video

BASE = "http://cdn.test/v/master.m3u8"
MEDIA = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXTINF:4.0,\na.ts\n#EXTINF:4.0,\nb.ts\n"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no #EXTM3U"),
        ("<html>not found</html>", "no #EXTM3U"),
        (MEDIA, "live playlists are not supported"),
        ("#EXTM3U\n#EXT-X-ENDLIST\n", "no segments"),
        (MEDIA + "#EXT-X-ENDLIST\n", "no BANDWIDTH and no byte ranges"),
    ],
)
def test_bad_hls_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason) as info:
        parse_hls(text, BASE, {})
    assert str(info.value).startswith(BASE)


def test_ragged_ladders_are_refused() -> None:
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nlow.m3u8\n#EXT-X-STREAM-INF:BANDWIDTH=900000\nhigh.m3u8\n"
    low = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n" + "#EXTINF:4,\ns.ts\n" * 5 + "#EXT-X-ENDLIST\n"
    high = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n" + "#EXTINF:4,\ns.ts\n" * 2 + "#EXT-X-ENDLIST\n"
    media = {"http://cdn.test/v/low.m3u8": low, "http://cdn.test/v/high.m3u8": high}
    with pytest.raises(ManifestError, match="disagree on the segment count"):
        parse_hls(master, BASE, media)


MPD = """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="{type}" mediaPresentationDuration="PT10S">
 <Period><AdaptationSet contentType="video">
  <Representation id="v" bandwidth="500000" width="640" height="360">
   <SegmentTemplate timescale="1000" duration="4000" media="s$Number$.m4s" initialization="i.m4s"/>
  </Representation></AdaptationSet></Period></MPD>"""


def test_a_static_mpd_with_a_short_last_segment() -> None:
    presentation = parse_dash(MPD.format(type="static"), "http://cdn.test/d/manifest.mpd")
    assert presentation.segment_durations_s == (4.0, 4.0, 2.0)
    assert presentation.renditions[0].segments[2].url == "http://cdn.test/d/s3.m4s"
    assert presentation.renditions[0].segments[0].size_bits == 500000 * 4.0


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not a DASH MPD"),
        (MPD.format(type="static")[:200], "malformed XML"),
        (MPD.format(type="dynamic"), "live"),
        (MPD.format(type="static").replace('bandwidth="500000"', ""), "no bandwidth"),
    ],
)
def test_bad_dash_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        parse_dash(text, "http://cdn.test/d/manifest.mpd")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ({"bitrates_kbps": [1], "segment_sizes_bits": [[1]]}, "segment_duration_ms"),
        (
            {
                "segment_duration_ms": 4000,
                "bitrates_kbps": [300, 900],
                "segment_sizes_bits": [[1, 2], [3]],
            },
            "segment 1",
        ),
        (
            {
                "segment_duration_ms": 4000,
                "bitrates_kbps": [900, 300],
                "segment_sizes_bits": [[1, 2]],
            },
            "ascending",
        ),
        (
            {"segment_duration_ms": 4000, "bitrates_kbps": [300], "segment_sizes_bits": [[-5]]},
            "positive",
        ),
    ],
)
def test_bad_sabre_video_is_refused(data: dict[str, object], reason: str) -> None:
    with pytest.raises(ManifestError, match=reason):
        parse_sabre_video(data, source="video.json")


@given(st.text(max_size=400))
def test_garbage_raises_only_manifest_errors(text: str) -> None:
    for parse in (
        lambda t: parse_hls("#EXTM3U\n" + t, BASE, {}),
        lambda t: parse_dash("<MPD" + t, BASE),
    ):
        with contextlib.suppress(ManifestError):
            parse(text)
