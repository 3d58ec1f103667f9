"""Malformed, truncated and unsupported manifests fail with a ManifestError naming the source."""

from __future__ import annotations

import builtins
import pickle
import urllib.request
from typing import Any

import pytest

from abr.manifests import ManifestError, parse_dash, parse_hls
from abr.manifests.hls import _failing_line

BASE = "http://cdn.test/v/master.m3u8"
MPD_URL = "http://cdn.test/d/manifest.mpd"
HEAD = "#EXTM3U\n#EXT-X-TARGETDURATION:4\n"
MEDIA = HEAD + "#EXTINF:4.0,\na.ts\n#EXTINF:4.0,\nb.ts\n"


def refused(call: Any, *args: Any, match: str, source: str) -> ManifestError:
    with pytest.raises(ManifestError, match=match) as info:
        call(*args)
    error = info.value
    assert error.source == source
    assert str(error).startswith(source + ": ") and "\n" not in str(error)
    return error


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no #EXTM3U"),
        ("<html>not found</html>", "no #EXTM3U"),
        ("#EXTM3U\n#EXTINF:4.0,\na.ts\n", "a live playlist needs #EXT-X-TARGETDURATION"),
        (
            HEAD + "#EXT-X-MEDIA-SEQUENCE:-3\n" + MEDIA[len(HEAD) :],
            "line 3: EXT-X-MEDIA-SEQUENCE -3 is out of range",
        ),
        (
            HEAD + "#EXT-X-DISCONTINUITY-SEQUENCE:" + "9" * 30 + "\n#EXTINF:4,\na.ts\n",
            "EXT-X-DISCONTINUITY-SEQUENCE .an integer of .* digits. is out of range",
        ),
        (HEAD.replace(":4", ":-4") + "#EXTINF:4,\na.ts\n", "line 2: EXT-X-TARGETDURATION -4"),
        (HEAD + "#EXT-X-ENDLIST\n", "no segments"),
        (MEDIA + "#EXT-X-ENDLIST\n", "no BANDWIDTH and no byte ranges"),
        (HEAD + "#EXTINF:4,\n#EXT-X-ENDLIST\n", "segment 0 has #EXTINF but no URI"),
        (HEAD + "#EXTINF:0,\na.ts\n#EXT-X-ENDLIST\n", "bad #EXTINF duration"),
        (HEAD + "#EXTINF:inf,\na.ts\n#EXT-X-ENDLIST\n", "bad #EXTINF duration"),
        (HEAD + "#EXT-X-BYTERANGE:100\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n", "without offset"),
        (HEAD + "#EXT-X-BYTERANGE:x@3\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n", "bad BYTERANGE"),
        (
            HEAD + '#EXT-X-KEY:METHOD=AES-128,URI="k",IV=0xZZ\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n',
            "bad IV",
        ),
        # Issue 14: numbers past int64 or int()'s 4300 digits, sizes past any file.
        (
            HEAD + "#EXT-X-BYTERANGE:100@" + "9" * 5000 + "\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
            "bad BYTERANGE",
        ),
        (
            HEAD + "#EXT-X-BYTERANGE:9223372036854775807@0\n#EXTINF:4,\na.ts\n#EXT-X-ENDLIST\n",
            "is beyond any file",
        ),
    ],
)
def test_bad_media_playlists(text: str, reason: str) -> None:
    refused(parse_hls, text, BASE, {}, match=reason, source=BASE)


def test_errors_carry_the_line() -> None:
    text = HEAD + "#EXTINF:4,\na.ts\n#EXTINF:oops,\nb.ts\n#EXT-X-ENDLIST\n"
    error = refused(parse_hls, text, BASE, {}, match="malformed playlist", source=BASE)
    assert error.line == 5 and "line 5:" in str(error)
    text = HEAD + "#EXTINF:4,\na.ts\n#EXTINF:4,\n#EXT-X-BYTERANGE:7\nb.ts\n#EXT-X-ENDLIST\n"
    assert refused(parse_hls, text, BASE, {}, match="segment 1", source=BASE).line == 7


def test_line_numbers_count_leading_blank_lines_and_survive_an_m3u8_change() -> None:
    text = "\n\n" + HEAD + "#EXTINF:4,\na.ts\n#EXTINF:oops,\nb.ts\n#EXT-X-ENDLIST\n"
    error = refused(parse_hls, text, BASE, {}, match="malformed playlist", source=BASE)
    assert error.line == 7
    # Without m3u8's frame in the traceback, bisection over prefixes finds the same line.
    assert _failing_line(text, ValueError("no traceback")) == 7


def test_errors_in_a_media_playlist_name_that_playlist() -> None:
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000\nlow/index.m3u8\n"
    url = "http://cdn.test/v/low/index.m3u8"
    backwards = MEDIA.replace(HEAD, HEAD + "#EXT-X-MEDIA-SEQUENCE:-1\n")
    refused(parse_hls, master, BASE, {url: backwards}, match="MEDIA-SEQUENCE -1", source=url)
    refused(parse_hls, master, BASE, {url: master}, match="got a master playlist", source=url)
    refused(parse_hls, master, BASE, {}, match=f"line 3: media playlist {url}", source=BASE)
    refused(
        parse_hls,
        "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n",
        BASE,
        {},
        match="no variant",
        source=BASE,
    )


def ladder(*media: str) -> tuple[str, dict[str, str]]:
    master = "#EXTM3U\n" + "".join(
        f"#EXT-X-STREAM-INF:BANDWIDTH={(i + 1) * 100_000}\nr{i}.m3u8\n" for i in range(len(media))
    )
    return master, {f"http://cdn.test/v/r{i}.m3u8": text for i, text in enumerate(media)}


def vod(*durations: float) -> str:
    return (
        HEAD
        + "".join(f"#EXTINF:{d},\ns{i}.ts\n" for i, d in enumerate(durations))
        + "#EXT-X-ENDLIST\n"
    )


def test_ladders_without_a_shared_timeline_are_refused() -> None:
    master, media = ladder(vod(4, 4, 4, 4, 4), vod(4, 4, 4))
    refused(parse_hls, master, BASE, media, match="disagree on the segment count", source=BASE)
    master, media = ladder(vod(4, 4, 4), vod(2, 6, 4))  # GOPs not aligned across rungs
    refused(parse_hls, master, BASE, media, match="segment 1 starts at 2.000 s", source=BASE)


MPD = """<?xml version="1.0"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="{type}" mediaPresentationDuration="PT10S">
 <Period><AdaptationSet contentType="video">
  <Representation id="v" bandwidth="500000" width="640" height="360">
   <SegmentTemplate timescale="1000" duration="4000" media="s$Number$.m4s" initialization="i.m4s"/>
  </Representation></AdaptationSet></Period></MPD>"""
STATIC = MPD.format(type="static")


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "not a DASH MPD"),
        ("<MPD", "malformed XML"),
        (STATIC[:200], r"line 4: malformed XML: unclosed token \(column 2\)"),
        ("<Foo><MPD/></Foo>", "root element is <Foo>"),
        (MPD.format(type="dynamic"), "MPD@availabilityStartTime: a dynamic MPD must have one"),
        (STATIC.replace('bandwidth="500000"', ""), "Representation 'v': no positive @bandwidth"),
        (STATIC.replace('width="640"', 'width="wide"'), "bad attribute value"),
        (
            STATIC.replace("<Period>", '<Period duration="PT5S"/><Period>'),
            "Period '0': no video AdaptationSet",
        ),
        (STATIC.replace("PT10S", "10 seconds"), "bad ISO 8601 duration"),
        (STATIC.replace("PT10S", "P1M"), "years or months"),
        (STATIC.replace("PT10S", "PT" + "9" * 400 + "S"), "out of range"),
        (STATIC.replace("PT10S", "PT0S"), "lasts 0 s"),
        (STATIC.replace(' mediaPresentationDuration="PT10S"', ""), "needs the MPD's or Period's"),
        (STATIC.replace('duration="4000" ', ""), "needs @duration or a SegmentTimeline"),
        (
            STATIC.replace('timescale="1000" duration="4000"', 'timescale="1000000" duration="1"'),
            "more than the 200000 allowed",
        ),
        (STATIC.replace('timescale="1000"', 'timescale="0"'), "timescale 0"),
        # Issue 14: integers no float holds, or past the schema's unsignedInt/unsignedLong.
        (
            STATIC.replace('"500000"', '"1' + "0" * 400 + '"'),
            "@bandwidth \\(an integer of 401 digits\\) is above the",
        ),
        (STATIC.replace('duration="4000"', 'duration="1' + "0" * 400 + '"'), "out of range"),
        (STATIC.replace('timescale="1000"', 'timescale="4294967296"'), "@timescale .* out of"),
        (STATIC.replace("$Number$", "$Number%0" + "9" * 5000 + "d$"), "absurd"),
        (STATIC.replace("$Number$", "$Nmbr$"), r"unsupported template identifier \$Nmbr\$"),
        (STATIC.replace("$Number$", "$RepresentationID%03d$"), "cannot take a format tag"),
        (STATIC.replace("$Number$", "$Number%0999d$"), "absurd"),
        (STATIC.replace('"i.m4s"', '"i$Number$.m4s"'), r"\$Number\$ is not allowed"),
        (STATIC.replace('contentType="video"', 'contentType="audio"'), "no video AdaptationSet"),
        (
            STATIC.replace(
                '<Representation id="v"',
                '<Representation id="v" bandwidth="1">'
                '<SegmentList duration="1"><SegmentURL media="x"/></SegmentList></Representation>'
                '<Representation id="v"',
            ),
            "two video Representations with id 'v'",
        ),
        (
            '<!DOCTYPE MPD [<!ENTITY a "aaaa">]>' + STATIC.split("?>", 1)[1],
            "entity declarations are not allowed",
        ),
    ],
)
def test_bad_mpds(text: str, reason: str) -> None:
    refused(parse_dash, text, MPD_URL, match=reason, source=MPD_URL)


TIMELINE = (
    '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S">'
    '<Period><AdaptationSet contentType="video"><Representation id="v" bandwidth="500000">'
    '<SegmentTemplate timescale="1000" media="s$Time$.m4s"><SegmentTimeline>{}</SegmentTimeline>'
    "</SegmentTemplate></Representation></AdaptationSet></Period></MPD>"
)


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ("", "empty SegmentTimeline"),
        ('<S t="0" d="0"/>', "S 0 has no positive @d"),
        ('<S t="0" d="4000"/><S t="3000" d="4000"/>', "S 1: t=3000 overlaps"),
        ('<S t="0" d="1" r="999999999"/>', "more than 200000 segments"),
        ('<S t="1' + "0" * 400 + '" d="4000"/>', "S 0: @t .* out of range"),
    ],
)
def test_bad_segment_timelines(entries: str, reason: str) -> None:
    refused(parse_dash, TIMELINE.format(entries), MPD_URL, match=reason, source=MPD_URL)


@pytest.mark.parametrize(
    ("segment_base", "reason"),
    [
        ("<SegmentBase/>", "Representation 'v': SegmentBase has no @indexRange"),
        ('<SegmentBase indexRange="1000-800"/>', "bad byte range '1000-800'"),
        ('<SegmentBase indexRange="0-9999999999999999999"/>', "beyond any file"),
        ('<SegmentBase indexRange="8-9" timescale="0"/>', "timescale 0 is not positive"),
        (
            '<SegmentBase indexRange="8-9" presentationTimeOffset="1' + "0" * 30 + '"/>',
            "@presentationTimeOffset .* out of range",
        ),
        (
            '<SegmentBase indexRange="8-9"><RepresentationIndex sourceURL="i.sidx"/></SegmentBase>',
            "RepresentationIndex element is not supported",
        ),
    ],
)
def test_bad_segment_bases(segment_base: str, reason: str) -> None:
    text = STATIC.replace(
        '<SegmentTemplate timescale="1000" duration="4000" media="s$Number$.m4s" initialization="i.m4s"/>',
        "<BaseURL>v.mp4</BaseURL>" + segment_base,
    )
    refused(parse_dash, text, MPD_URL, match=reason, source=MPD_URL)


def test_strings_are_never_fetched_or_opened(monkeypatch: pytest.MonkeyPatch) -> None:
    """mpegdash's own MPEGDASHParser.parse would urlopen() or open() a string without "<MPD"."""

    def forbidden(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"I/O attempted: {args}")

    monkeypatch.setattr(urllib.request, "urlopen", forbidden)
    monkeypatch.setattr(builtins, "open", forbidden)
    for text in ("/etc/hostname", "http://cdn.test/d/manifest.mpd", "manifest.mpd"):
        refused(parse_dash, text, MPD_URL, match="not a DASH MPD", source=MPD_URL)
        refused(parse_hls, text, BASE, {}, match="no #EXTM3U", source=BASE)


def test_non_text_is_refused() -> None:
    refused(parse_hls, b"#EXTM3U\n", BASE, {}, match="got bytes", source=BASE)
    refused(parse_dash, None, MPD_URL, match="got NoneType", source=MPD_URL)


def test_errors_pickle_and_read_as_one_line() -> None:
    error = ManifestError("a.m3u8", "two\nlines", line=3)
    assert str(error) == "a.m3u8: line 3: two lines"
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.source, copy.reason, copy.line, str(copy)) == (
        "a.m3u8",
        "two lines",
        3,
        str(error),
    )
    assert isinstance(error, ValueError)
    assert str(ManifestError("", "empty")) == "manifest: empty"


def test_a_400_digit_bandwidth_in_a_master_is_refused_at_its_line() -> None:
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1" + "0" * 300 + "\nv.m3u8\n"
    media = {"http://cdn.test/v/v.m3u8": MEDIA + "#EXT-X-ENDLIST\n"}
    error = refused(parse_hls, master, BASE, media, match="is above the", source=BASE)
    assert error.line == 3 and "(an integer of 301 digits)" in str(error)
