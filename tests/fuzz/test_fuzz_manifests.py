"""HLS playlists, DASH MPDs and the Sabre video JSON, from valid ones damaged by `mutations`
(plus XML entity attacks for DASH): a ManifestError, or a presentation whose every number is
finite and in range."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from abr.manifests import (
    ManifestError,
    dash_audio_renditions,
    dash_content_protection,
    hls_segment_keys,
    media_playlist_urls,
    parse_dash,
    parse_hls,
)
from abr.manifests._ladder import MAX_BANDWIDTH_BPS, MAX_SEGMENT_BITS, MAX_SEGMENT_S
from abr.presentation import Presentation
from simulator.synthetic_video import synthetic_video
from simulator.video import load_video
from tests.fuzz.harness import FuzzRecorder, fuzz_settings
from tests.fuzz.mutations import as_bytes, mutated

MASTER_URL = "http://cdn.test/title/master.m3u8"
MPD_URL = "http://cdn.test/title/manifest.mpd"


def _sane(presentation: Presentation) -> None:
    """What the session and the algorithms rely on: positive finite numbers within the bounds."""
    assert all(0 < d <= MAX_SEGMENT_S for d in presentation.segment_durations_s)
    for rendition in presentation.renditions:
        assert 0 < rendition.bandwidth_bps <= MAX_BANDWIDTH_BPS, rendition.bandwidth_bps
        for ref in rendition.segments:
            assert math.isfinite(ref.size_bits) and 0 < ref.size_bits <= MAX_SEGMENT_BITS, ref
    assert math.isfinite(presentation.duration_s)


@st.composite
def hls_ladders(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """A master playlist and its media playlists: byte ranges or not, EXT-X-MAP, AES-128 keys,
    an audio group."""
    durations = draw(st.lists(st.integers(500, 6000), min_size=1, max_size=12))
    ranged, keyed, mapped = draw(st.booleans()), draw(st.booleans()), draw(st.booleans())
    rungs = draw(st.lists(st.integers(100_000, 8_000_000), min_size=1, max_size=4, unique=True))
    master = ["#EXTM3U", "#EXT-X-VERSION:6"]
    master.append('#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="a",NAME="en",DEFAULT=YES,URI="audio.m3u8"')
    media: dict[str, str] = {}
    for i, bandwidth in enumerate(sorted(rungs)):
        master.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={bandwidth},AVERAGE-BANDWIDTH={bandwidth * 9 // 10},"
            f"RESOLUTION={320 * (i + 1)}x{180 * (i + 1)},FRAME-RATE=24.000,"
            f'CODECS="avc1.64001f,mp4a.40.2",AUDIO="a"'
        )
        master.append(f"r{i}/index.m3u8")
        lines = ["#EXTM3U", "#EXT-X-VERSION:6", "#EXT-X-TARGETDURATION:6"]
        lines += ["#EXT-X-MEDIA-SEQUENCE:3", "#EXT-X-PLAYLIST-TYPE:VOD"]
        if mapped:
            lines.append('#EXT-X-MAP:URI="init.mp4",BYTERANGE="720@0"' if ranged else "")
        if keyed:
            lines.append('#EXT-X-KEY:METHOD=AES-128,URI="../key",IV=0x0123456789abcdef')
        offset = 720
        for n, ms in enumerate(durations):
            lines.append(f"#EXTINF:{ms / 1000:.3f},")
            if ranged:
                size = bandwidth * ms // 8000 + 1
                lines.append(f"#EXT-X-BYTERANGE:{size}@{offset}")
                offset += size
                lines.append("all.mp4")
            else:
                lines.append(f"seg{n}.m4s")
        lines.append("#EXT-X-ENDLIST")
        media[f"http://cdn.test/title/r{i}/index.m3u8"] = "\n".join(lines) + "\n"
    return "\n".join(master) + "\n", media


@st.composite
def damaged_hls(draw: st.DrawFn) -> tuple[str, dict[str, str]]:
    """The ladder with its master or one of its media playlists damaged."""
    master, media = draw(hls_ladders())
    target = draw(st.sampled_from([None, *media]))
    if target is None:
        return draw(mutated(st.just(master))), media
    return master, {**media, target: draw(mutated(st.just(media[target])))}


def _hls(master: str, media: dict[str, str]) -> Presentation:
    media_playlist_urls(master, MASTER_URL)
    hls_segment_keys(master, MASTER_URL, media)
    return parse_hls(master, MASTER_URL, media)


@fuzz_settings
@given(ladder=damaged_hls())
def test_a_damaged_hls_ladder_parses_or_is_refused(
    fuzz: FuzzRecorder, ladder: tuple[str, dict[str, str]]
) -> None:
    presentation = fuzz.case("manifests.hls", lambda: _hls(*ladder), (ManifestError,))
    if presentation is not None:
        _sane(presentation)


@st.composite
def mpds(draw: st.DrawFn) -> str:
    """A static MPD: a video set addressed by $Number$ and @duration, a SegmentTimeline with
    $Time$, or a SegmentList with byte ranges; an audio set; ContentProtection."""
    scheme = draw(st.sampled_from(("number", "timeline", "list")))
    count = draw(st.integers(1, 12))
    seconds = draw(st.integers(1, 6))
    rungs = draw(st.lists(st.integers(100_000, 8_000_000), min_size=1, max_size=4, unique=True))
    total = count * seconds
    if scheme == "number":
        addressing = (
            f'<SegmentTemplate timescale="1000" duration="{seconds * 1000}" startNumber="1" '
            'media="$RepresentationID$/seg-$Number%05d$.m4s" '
            'initialization="$RepresentationID$/init.mp4"/>'
        )
    elif scheme == "timeline":
        addressing = (
            '<SegmentTemplate timescale="90000" media="$RepresentationID$/$Time$.m4s" '
            'initialization="$RepresentationID$/init.mp4"><SegmentTimeline>'
            f'<S t="0" d="{seconds * 90000}" r="{count - 1}"/></SegmentTimeline></SegmentTemplate>'
        )
    else:
        urls = "".join(
            f'<SegmentURL media="all.mp4" mediaRange="{1000 + n * 5000}-{1000 + n * 5000 + 4999}"/>'
            for n in range(count)
        )
        addressing = (
            f'<SegmentList timescale="1" duration="{seconds}">'
            f'<Initialization sourceURL="all.mp4" range="0-999"/>{urls}</SegmentList>'
        )
    reps = "".join(
        f'<Representation id="v{i}" bandwidth="{b}" width="{320 * (i + 1)}" '
        f'height="{180 * (i + 1)}" frameRate="24000/1001" codecs="avc1.64001f"/>'
        for i, b in enumerate(sorted(rungs))
    )
    return (
        '<?xml version="1.0"?>\n'
        '<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" xmlns:cenc="urn:mpeg:cenc:2013" '
        f'type="static" mediaPresentationDuration="PT{total}S" minBufferTime="PT2S">\n'
        "<BaseURL>media/</BaseURL>\n<Period>\n"
        '<AdaptationSet contentType="video" mimeType="video/mp4">\n'
        '<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="cenc" '
        'cenc:default_KID="00112233-4455-6677-8899-aabbccddeeff"/>\n'
        f"{addressing}\n{reps}\n</AdaptationSet>\n"
        '<AdaptationSet contentType="audio" lang="en" mimeType="audio/mp4">\n'
        f'{addressing}\n<Representation id="a0" bandwidth="128000" codecs="mp4a.40.2"/>\n'
        "</AdaptationSet>\n</Period>\n</MPD>\n"
    )


# Entity attacks: exponential expansion (billion laughs), a local file, a remote DTD.
_LAUGHS = (
    '<!DOCTYPE MPD [<!ENTITY a "lol">'
    + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
    + "]>"
)
XML_ATTACKS = (
    _LAUGHS,
    '<!DOCTYPE MPD [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
    '<!DOCTYPE MPD SYSTEM "http://127.0.0.1:9/evil.dtd">',
    '<!DOCTYPE MPD [<!ENTITY % p SYSTEM "http://127.0.0.1:9/p.dtd"> %p;]>',
)


@st.composite
def damaged_mpds(draw: st.DrawFn) -> str:
    text = draw(mpds())
    if draw(st.integers(0, 9)) == 0:
        # An attack in the prologue, its entity used in the body.
        body = text.split("\n", 1)[1].replace("<BaseURL>media/", "<BaseURL>&j;&x;media/")
        return '<?xml version="1.0"?>\n' + draw(st.sampled_from(XML_ATTACKS)) + "\n" + body
    return draw(mutated(st.just(text)))


def _dash(text: str) -> Presentation:
    dash_content_protection(text, MPD_URL)
    dash_audio_renditions(text, MPD_URL)
    return parse_dash(text, MPD_URL)


@fuzz_settings
@given(text=damaged_mpds())
def test_a_damaged_mpd_parses_or_is_refused(fuzz: FuzzRecorder, text: str) -> None:
    presentation = fuzz.case("manifests.dash", lambda: _dash(text), (ManifestError,))
    if presentation is not None:
        _sane(presentation)


def test_an_mpd_with_entities_is_refused_before_expansion() -> None:
    for attack in XML_ATTACKS[:2]:
        text = '<?xml version="1.0"?>\n' + attack + "\n<MPD><BaseURL>&j;</BaseURL></MPD>"
        try:
            parse_dash(text, MPD_URL)
        except ManifestError as exc:
            assert "entity" in str(exc).lower() or "DTD" in str(exc), exc
        else:
            raise AssertionError("an MPD with a DTD of entities parsed")


def test_a_damaged_sabre_video_loads_or_is_refused(fuzz: FuzzRecorder, tmp_path: Path) -> None:
    path = tmp_path / "video.json"
    valid = st.builds(synthetic_video, segments=st.integers(1, 40), seed=st.integers(0, 99)).map(
        json.dumps
    )

    @fuzz_settings
    @given(data=mutated(valid).flatmap(as_bytes))
    def run(data: bytes) -> None:
        path.write_bytes(data)
        presentation = fuzz.case(
            "manifests.sabre-video", lambda: load_video(path), (ManifestError,)
        )
        if presentation is not None:
            _sane(presentation)

    run()
