"""Small hand-written manifests, one feature at a time."""

from __future__ import annotations

import pytest

from abr.manifests import (
    ContentProtection,
    HlsKey,
    dash_content_protection,
    hls_segment_keys,
    media_playlist_urls,
    parse_dash,
    parse_hls,
)

BASE = "https://cdn.test/title/master.m3u8"
MPD_URL = "https://cdn.test/title/manifest.mpd"

MASTER = """#EXTM3U
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="English",LANGUAGE="en",DEFAULT=YES,URI="audio/en.m3u8"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aac",NAME="Deutsch",LANGUAGE="de",DEFAULT=NO,URI="audio/de.m3u8"
#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",URI="subs/en.m3u8"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID="cc",NAME="CC1",INSTREAM-ID="CC1"
#EXT-X-STREAM-INF:BANDWIDTH=2500000,AVERAGE-BANDWIDTH=2000000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",FRAME-RATE=29.970,AUDIO="aac",SUBTITLES="subs"
720/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=800000,RESOLUTION=640x360,CODECS="avc1.4d401e,mp4a.40.2",FRAME-RATE=29.970,AUDIO="aac",SUBTITLES="subs"
360/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=2600000,RESOLUTION=1280x720,CODECS="avc1.64001f,mp4a.40.2",AUDIO="aac"
720/index.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=64000,CODECS="mp4a.40.2",AUDIO="aac"
audio/en.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=100000,URI="720/iframes.m3u8"
"""


def media(n: int, duration: float = 6.0, sequence: int = 0, extra: str = "") -> str:
    segments = "".join(f"#EXTINF:{duration:.3f},\nseg{i}.ts\n" for i in range(n))
    return (
        f"#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:{int(duration) + 1}\n"
        f"#EXT-X-MEDIA-SEQUENCE:{sequence}\n{extra}{segments}#EXT-X-ENDLIST\n"
    )


def test_master_attributes_tracks_and_variant_selection() -> None:
    urls = media_playlist_urls(MASTER, BASE)
    # No repeat of 720 (listed once per audio group), no audio-only variant, no I-frame playlist.
    assert urls == [
        "https://cdn.test/title/720/index.m3u8",
        "https://cdn.test/title/360/index.m3u8",
    ]
    p = parse_hls(MASTER, BASE, {url: media(5) for url in urls})
    low, high = p.renditions
    assert (low.id, low.bandwidth_bps, low.width, low.height) == ("1", 800_000, 640, 360)
    assert (high.id, high.bandwidth_bps, high.codecs) == ("0", 2_500_000, "avc1.64001f,mp4a.40.2")
    assert high.frame_rate == pytest.approx(29.97)
    assert high.segments[0].url == "https://cdn.test/title/720/seg0.ts"
    assert high.segments[0].size_bits == 2_500_000 * 6.0 and high.segments[0].size_is_estimate
    assert [(t.id, t.language, t.is_default, t.codecs) for t in p.audio_tracks] == [
        ("aac/English", "en", True, "mp4a.40.2"),
        ("aac/Deutsch", "de", False, "mp4a.40.2"),
    ]
    assert p.audio_tracks[1].url == "https://cdn.test/title/audio/de.m3u8"
    (subs,) = p.subtitle_tracks
    assert (subs.kind, subs.url) == ("subtitles", "https://cdn.test/title/subs/en.m3u8")
    assert p.source == BASE


def test_a_media_playlist_alone_with_byte_ranges() -> None:
    text = (
        "#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:4\n#EXT-X-PLAYLIST-TYPE:VOD\n"
        '#EXT-X-MAP:URI="v.mp4",BYTERANGE="700"\n'
        "#EXTINF:4.0,\n#EXT-X-BYTERANGE:1000@700\nv.mp4\n"
        "#EXTINF:4.0,\n#EXT-X-BYTERANGE:3000\nv.mp4\n"  # no offset: follows the previous range
        "#EXTINF:2.0,\n#EXT-X-BYTERANGE:500@3700\nv.mp4\n"
        "#EXT-X-ENDLIST\n"
    )
    assert media_playlist_urls(text, BASE) == []
    p = parse_hls(text, BASE)
    (r,) = p.renditions
    assert p.segment_durations_s == (4.0, 4.0, 2.0)
    assert [s.byte_range for s in r.segments] == [(700, 1699), (1700, 4699), (3700, 4199)]
    assert [s.size_bits for s in r.segments] == [8000.0, 24000.0, 4000.0]
    assert not any(s.size_is_estimate for s in r.segments)
    assert r.init is not None and r.init.byte_range == (0, 699)
    assert r.bandwidth_bps == 6000  # peak segment bit rate, as RFC 8216 defines BANDWIDTH


def test_vod_type_without_endlist_is_vod() -> None:
    text = "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:4\n#EXT-X-BYTERANGE:10@0\n#EXTINF:4,\na.ts\n"
    assert parse_hls(text, BASE).segment_count == 1


def test_keys_per_segment() -> None:
    extra = '#EXT-X-KEY:METHOD=AES-128,URI="../keys/k1"\n'
    text = media(2, sequence=41, extra=extra).replace(
        "#EXTINF:6.000,\nseg1.ts",
        '#EXT-X-KEY:METHOD=SAMPLE-AES,URI="skd://k2",KEYFORMAT="com.apple.streamingkeydelivery",'
        'KEYFORMATVERSIONS="1"\n#EXTINF:6.000,\nseg1.ts\n#EXT-X-KEY:METHOD=NONE\n#EXTINF:6.000,\nseg2.ts',
    )
    master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000000\nv/index.m3u8\n"
    playlists = {"https://cdn.test/title/v/index.m3u8": text}
    assert parse_hls(master, BASE, playlists).segment_count == 3
    (keys,) = hls_segment_keys(master, BASE, playlists).values()
    assert keys == (
        # No IV attribute: AES-128 uses the media sequence number (41 for the first segment).
        HlsKey("AES-128", "https://cdn.test/title/keys/k1", "0x" + "0" * 30 + "29"),
        HlsKey("SAMPLE-AES", "skd://k2", None, "com.apple.streamingkeydelivery", "1"),
        None,
    )


def test_a_sliver_at_the_end_is_dropped() -> None:
    master = "#EXTM3U\n" + "".join(
        f"#EXT-X-STREAM-INF:BANDWIDTH={b}\nr{b}.m3u8\n" for b in (900_000, 300_000)
    )
    long = media(3, 4.0).replace("#EXT-X-ENDLIST", "#EXTINF:0.040,\nextra.ts\n#EXT-X-ENDLIST")
    playlists = {
        "https://cdn.test/title/r900000.m3u8": long,
        "https://cdn.test/title/r300000.m3u8": media(3, 4.0),
    }
    p = parse_hls(master, BASE, playlists)
    assert p.segment_durations_s == (4.0, 4.0, 4.0)
    assert all(len(r.segments) == 3 for r in p.renditions)
    assert [r.id for r in p.renditions] == ["1", "0"]


MPD = """<?xml version="1.0" encoding="UTF-8"?>
<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013"
     xmlns:clearkey="http://dashif.org/guidelines/clearKey"
     type="static" mediaPresentationDuration="PT0H0M9.5S" profiles="urn:mpeg:dash:profile:isoff-live:2011">
  <BaseURL>https://media.test/t42/</BaseURL>
  <Period id="p0">
    <AdaptationSet id="1" mimeType="video/mp4" codecs="avc1.64001f" frameRate="30000/1001"
                   segmentAlignment="true">
      <ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc"
                         cenc:default_KID="00112233-4455-6677-8899-aabbccddeeff"/>
      <ContentProtection schemeIdUri="urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e" value="ClearKey1.0">
        <clearkey:Laurl Lic_type="EME-1.0">/api/v1/license/clearkey</clearkey:Laurl>
      </ContentProtection>
      <BaseURL>video/</BaseURL>
      <SegmentTemplate timescale="90000" duration="360000" startNumber="0"
                       media="$RepresentationID$/$Bandwidth$/n$Number%03d$.m4s"
                       initialization="$RepresentationID$/init.mp4"/>
      <Representation id="hd" bandwidth="3000000" width="1280" height="720"/>
      <Representation id="sd" bandwidth="1000000" width="640" height="360" codecs="avc1.4d401e">
        <SegmentTemplate startNumber="10"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="9" contentType="video" width="320" height="180">
      <EssentialProperty schemeIdUri="http://dashif.org/guidelines/trickmode" value="1"/>
      <Representation id="trick" bandwidth="50000"><SegmentTemplate media="t$Number$" duration="4"/></Representation>
    </AdaptationSet>
    <AdaptationSet id="8" contentType="image" mimeType="image/jpeg">
      <Representation id="thumbs" bandwidth="10000" width="320" height="180"/>
    </AdaptationSet>
    <AdaptationSet id="2" mimeType="audio/mp4" lang="fr">
      <Role schemeIdUri="urn:mpeg:dash:role:2011" value="main"/>
      <Label>Français</Label>
      <Representation id="a" bandwidth="96000" codecs="mp4a.40.2">
        <SegmentTemplate timescale="48000" duration="192000" media="a/$Number$.m4s"/>
      </Representation>
    </AdaptationSet>
    <AdaptationSet id="3" contentType="text" mimeType="text/vtt" lang="en">
      <Representation id="sub-en" bandwidth="256"><BaseURL>subs/en.vtt</BaseURL></Representation>
    </AdaptationSet>
  </Period>
</MPD>
"""


def test_template_inheritance_base_urls_and_identifiers() -> None:
    p = parse_dash(MPD, MPD_URL)
    sd, hd = p.renditions
    assert (sd.id, sd.height, sd.codecs, hd.codecs) == ("sd", 360, "avc1.4d401e", "avc1.64001f")
    assert sd.frame_rate == pytest.approx(29.97, abs=1e-3)
    # 9.5 s in 4 s segments: 4, 4, then the 1.5 s that is left.
    assert p.segment_durations_s == pytest.approx((4.0, 4.0, 1.5))
    assert [s.url for s in hd.segments] == [
        f"https://media.test/t42/video/hd/3000000/n{n:03d}.m4s" for n in (0, 1, 2)
    ]
    # The Representation's own startNumber, the AdaptationSet's media and timescale.
    assert sd.segments[0].url == "https://media.test/t42/video/sd/1000000/n010.m4s"
    assert hd.init is not None and hd.init.url == "https://media.test/t42/video/hd/init.mp4"
    assert hd.segments[2].size_bits == pytest.approx(3_000_000 * 1.5)


def test_tracks_trick_play_and_thumbnails() -> None:
    p = parse_dash(MPD, MPD_URL)
    assert [r.id for r in p.renditions] == ["sd", "hd"]  # no trick-mode or thumbnail rungs
    (audio,) = p.audio_tracks
    assert (audio.id, audio.language, audio.name, audio.is_default, audio.codecs, audio.url) == (
        "2",
        "fr",
        "Français",
        True,
        "mp4a.40.2",
        None,
    )
    (sub,) = p.subtitle_tracks
    assert (sub.kind, sub.language, sub.url) == (
        "subtitles",
        "en",
        "https://media.test/t42/subs/en.vtt",
    )


def test_content_protection_like_the_backend_writes_it() -> None:
    protection = dash_content_protection(MPD, MPD_URL)
    assert sorted(protection) == ["hd", "sd"]
    assert protection["hd"] == (
        ContentProtection(
            "urn:mpeg:dash:mp4protection:2011", "cenc", "00112233-4455-6677-8899-aabbccddeeff"
        ),
        ContentProtection(
            "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e",
            "ClearKey1.0",
            license_url="https://cdn.test/api/v1/license/clearkey",
        ),
    )


def timeline_mpd(timeline: str, media: str = "$Time$.m4s", duration: str = "PT20S") -> str:
    return f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="{duration}">
      <Period><AdaptationSet contentType="video">
        <SegmentTemplate timescale="1000" media="{media}" presentationTimeOffset="1000">
          <SegmentTimeline>{timeline}</SegmentTimeline></SegmentTemplate>
        <Representation id="v" bandwidth="1000"/>
      </AdaptationSet></Period></MPD>"""


def test_segment_timeline_repeats_gaps_and_open_ended_repeat() -> None:
    # r=-1 repeats until the next S@t; a 500-tick gap is folded into the segment before it.
    p = parse_dash(
        timeline_mpd(
            '<S t="1000" d="4000" r="-1"/><S t="9000" d="2000" r="1"/><S t="13500" d="3000"/>'
        ),
        MPD_URL,
    )
    assert p.segment_durations_s == (4.0, 4.0, 2.0, 2.5, 3.0)
    times = [s.url.rsplit("/", 1)[1] for s in p.renditions[0].segments if s.url]
    assert times == ["1000.m4s", "5000.m4s", "9000.m4s", "11000.m4s", "13500.m4s"]
    # The last S with r=-1 runs to the end of the period (offset by presentationTimeOffset).
    p = parse_dash(timeline_mpd('<S t="1000" d="4000" r="-1"/>'), MPD_URL)
    assert p.segment_durations_s == (4.0,) * 5


def test_segment_list_with_ranges_and_escaped_dollars() -> None:
    text = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S">
      <Period><AdaptationSet contentType="video"><Representation id="v" bandwidth="800000">
        <BaseURL>v$$1.mp4</BaseURL>
        <SegmentList timescale="10" duration="40">
          <Initialization range="0-99"/>
          <SegmentURL mediaRange="100-1099"/><SegmentURL mediaRange="1100-2599"/>
          <SegmentURL mediaRange="2600-3099"/>
        </SegmentList></Representation></AdaptationSet></Period></MPD>"""
    p = parse_dash(text, MPD_URL)
    (r,) = p.renditions
    assert p.segment_durations_s == (4.0, 4.0, 2.0)
    assert [s.size_bits for s in r.segments] == [8000.0, 12000.0, 4000.0]
    assert {s.url for s in r.segments} == {"https://cdn.test/title/v$$1.mp4"}  # not a template
    assert r.init is not None and r.init.byte_range == (0, 99)


def test_template_dollar_escape_and_end_number() -> None:
    text = timeline_mpd('<S t="1000" d="1000" r="9"/>', media="a$$b-$Number%04d$.m4s").replace(
        "<SegmentTemplate", '<SegmentTemplate endNumber="3"'
    )
    p = parse_dash(text, MPD_URL)
    assert [s.url for s in p.renditions[0].segments] == [
        f"https://cdn.test/title/a$b-{n:04d}.m4s" for n in (1, 2, 3)
    ]
