"""Property tests: random valid manifests keep their durations and counts; garbage only ever
raises ManifestError."""

from __future__ import annotations

import contextlib
import math
from urllib.parse import urljoin
from xml.sax.saxutils import quoteattr

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from abr.manifests import (
    ManifestError,
    media_playlist_urls,
    parse_dash,
    parse_hls,
    parse_sabre_video,
)
from abr.manifests._ladder import Resolver

BASE = "https://cdn.test/title/master.m3u8"
MPD_URL = "https://cdn.test/title/manifest.mpd"

durations_ms = st.lists(st.integers(100, 10_000), min_size=1, max_size=30)
bandwidths = st.lists(st.integers(50_000, 20_000_000), min_size=1, max_size=5, unique=True)


def media_playlist(durations: list[int], sizes: list[int] | None, sequence: int) -> str:
    lines = ["#EXTM3U", "#EXT-X-VERSION:4", "#EXT-X-TARGETDURATION:10"]
    lines.append(f"#EXT-X-MEDIA-SEQUENCE:{sequence}")
    offset = 0
    for n, d in enumerate(durations):
        lines.append(f"#EXTINF:{d / 1000:.3f},")
        if sizes is not None:
            lines.append(f"#EXT-X-BYTERANGE:{sizes[n]}@{offset}")
            offset += sizes[n]
            lines.append("all.ts")
        else:
            lines.append(f"seg{n}.ts")
    return "\n".join([*lines, "#EXT-X-ENDLIST", ""])


@given(
    durations=durations_ms,
    bandwidths=bandwidths,
    ranged=st.booleans(),
    sequence=st.integers(0, 10**6),
    data=st.data(),
)
def test_hls_ladders_round_trip(
    durations: list[int], bandwidths: list[int], ranged: bool, sequence: int, data: st.DataObject
) -> None:
    master = "#EXTM3U\n" + "".join(
        f"#EXT-X-STREAM-INF:BANDWIDTH={b},RESOLUTION={16 * (i + 1)}x{9 * (i + 1)}\nr{i}/index.m3u8\n"
        for i, b in enumerate(bandwidths)
    )
    size_lists = [
        data.draw(st.lists(st.integers(1, 10**7), min_size=len(durations), max_size=len(durations)))
        if ranged
        else None
        for _ in bandwidths
    ]
    media = {
        f"https://cdn.test/title/r{i}/index.m3u8": media_playlist(durations, sizes, sequence)
        for i, sizes in enumerate(size_lists)
    }
    p = parse_hls(master, BASE, media)
    assert p.segment_count == len(durations)
    assert p.segment_durations_s == pytest.approx([d / 1000 for d in durations])
    assert [r.bandwidth_bps for r in p.renditions] == sorted(bandwidths)
    for r in p.renditions:
        i = int(r.id)
        assert r.bandwidth_bps == bandwidths[i] and r.height == 9 * (i + 1)
        sizes = size_lists[i]
        for n, s in enumerate(r.segments):
            if sizes is None:
                assert s.size_is_estimate and s.url == f"https://cdn.test/title/r{i}/seg{n}.ts"
                assert s.size_bits == pytest.approx(bandwidths[i] * durations[n] / 1000)
            else:
                assert not s.size_is_estimate and s.size_bits == sizes[n] * 8


@given(durations=durations_ms, bandwidths=bandwidths, data=st.data())
def test_one_extra_segment_is_truncated_never_more(
    durations: list[int], bandwidths: list[int], data: st.DataObject
) -> None:
    extras = data.draw(
        st.lists(st.integers(0, 2), min_size=len(bandwidths), max_size=len(bandwidths))
    )
    master = "#EXTM3U\n" + "".join(
        f"#EXT-X-STREAM-INF:BANDWIDTH={b}\nr{i}.m3u8\n" for i, b in enumerate(bandwidths)
    )
    media = {
        f"https://cdn.test/title/r{i}.m3u8": media_playlist(durations + [40] * extra, None, 0)
        for i, extra in enumerate(extras)
    }
    if max(extras) - min(extras) > 1:
        with pytest.raises(ManifestError, match="disagree on the segment count"):
            parse_hls(master, BASE, media)
        return
    p = parse_hls(master, BASE, media)
    expected = durations + [40] * min(extras)
    assert p.segment_durations_s == pytest.approx([d / 1000 for d in expected])
    assert all(len(r.segments) == len(expected) for r in p.renditions)


def s_element(t: int | None, d: int, r: int) -> str:
    """<S> with t only when given and r only when non-zero, as packagers write it."""
    t_attr = f' t="{t}"' if t is not None else ""
    r_attr = f' r="{r}"' if r else ""
    return f'<S{t_attr} d="{d}"{r_attr}/>'


runs = st.lists(st.tuples(st.integers(1, 10**6), st.integers(0, 20)), min_size=1, max_size=10)


@given(
    runs=runs,
    timescale=st.sampled_from([1000, 12_288, 90_000, 10**7]),
    start_time=st.integers(0, 10**9),
    start_number=st.integers(0, 10**5),
)
def test_dash_segment_timelines_round_trip(
    runs: list[tuple[int, int]], timescale: int, start_time: int, start_number: int
) -> None:
    entries = "".join(
        s_element(start_time if n == 0 else None, d, r) for n, (d, r) in enumerate(runs)
    )
    ticks = [d for d, r in runs for _ in range(r + 1)]
    mpd = f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static">
      <Period><AdaptationSet contentType="video"><Representation id="a" bandwidth="800000" height="360">
      <SegmentTemplate timescale="{timescale}" startNumber="{start_number}"
        media="$RepresentationID$/$Time$-$Number%06d$.m4s"><SegmentTimeline>{entries}</SegmentTimeline>
      </SegmentTemplate></Representation></AdaptationSet></Period></MPD>"""
    p = parse_dash(mpd, MPD_URL)
    assert p.segment_count == len(ticks)
    assert p.segment_durations_s == pytest.approx([t / timescale for t in ticks])
    urls = [s.url for s in p.renditions[0].segments]
    expected_times = [start_time + sum(ticks[:n]) for n in range(len(ticks))]
    assert urls == [
        f"https://cdn.test/title/a/{t}-{start_number + n:06d}.m4s"
        for n, t in enumerate(expected_times)
    ]


@settings(deadline=None)  # up to 7200 segments per example
@given(
    total_ms=st.integers(1, 2 * 3600 * 1000),
    segment_ms=st.integers(1000, 20_000),
    timescale=st.sampled_from([1, 1000, 90_000]),
)
def test_dash_duration_templates_cover_the_presentation(
    total_ms: int, segment_ms: int, timescale: int
) -> None:
    if timescale == 1:  # whole seconds only
        segment_ms = segment_ms // 1000 * 1000
    h, rest = divmod(total_ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    iso = f"PT{h}H{m}M{rest / 1000}S"
    mpd = f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="{iso}">
      <Period><AdaptationSet mimeType="video/mp4"><Representation id="v" bandwidth="1000000">
      <SegmentTemplate timescale="{timescale}" duration="{segment_ms * timescale // 1000}"
        media="$Number$.m4s"/></Representation></AdaptationSet></Period></MPD>"""
    p = parse_dash(mpd, MPD_URL)
    assert p.segment_count == math.ceil(total_ms / segment_ms)
    assert p.duration_s == pytest.approx(total_ms / 1000)
    assert set(p.segment_durations_s[:-1]) <= {segment_ms / 1000}
    assert 0 < p.segment_durations_s[-1] <= segment_ms / 1000 + 1e-9


@given(
    sizes=st.lists(st.lists(st.floats(1, 1e9), min_size=3, max_size=3), min_size=1, max_size=50),
    duration_ms=st.integers(1, 20_000),
)
def test_sabre_video_round_trips(sizes: list[list[float]], duration_ms: int) -> None:
    data = {
        "segment_duration_ms": duration_ms,
        "bitrates_kbps": [200, 800, 3000],
        "segment_sizes_bits": sizes,
    }
    p = parse_sabre_video(data, "x.json")
    assert p.size_table_bits() == sizes
    assert p.segment_durations_s == (duration_ms / 1000,) * len(sizes)


bases = st.sampled_from(
    [
        "http://cdn.test/a/master.m3u8",
        "http://cdn.test/a/b.m3u8?token=1#frag",
        "https://cdn.test:8443",
        "file:///tmp/ladder/manifest.mpd",
        "http://cdn.test/a/./b//c/",
        "s3://bucket/key/master.m3u8",  # a scheme urljoin does not resolve against
        "relative/master.m3u8",
    ]
)
refs = st.one_of(
    st.text(alphabet="ab0./?#:;%@ =-_~\\\t!$&'()*+,", max_size=12), st.text(max_size=8)
)


@settings(max_examples=500)  # 200k examples were run once, offline
@given(base=bases, ref=refs)
def test_the_fast_url_resolver_agrees_with_urljoin(base: str, ref: str) -> None:
    assert Resolver(base)(ref) == urljoin(base, ref)


# --- Garbage: anything may be refused, but only ever with a ManifestError. ---

hls_lines = st.one_of(
    st.text(max_size=40),
    st.builds(
        "{}{}".format,
        st.sampled_from(
            [
                "#EXTINF:",
                "#EXT-X-BYTERANGE:",
                "#EXT-X-STREAM-INF:BANDWIDTH=",
                "#EXT-X-STREAM-INF:RESOLUTION=",
                "#EXT-X-MEDIA:TYPE=",
                "#EXT-X-KEY:METHOD=AES-128,IV=",
                '#EXT-X-MAP:URI="i.mp4",BYTERANGE=',
                "#EXT-X-MEDIA-SEQUENCE:",
                "#EXT-X-TARGETDURATION:",
                "#EXT-X-PLAYLIST-TYPE:",
                "#EXT-X-ENDLIST",
                "seg.ts",
            ]
        ),
        st.text(alphabet="0123456789.,@x-=\"' AESNOVD", max_size=12),
    ),
)


@settings(suppress_health_check=[HealthCheck.too_slow])
@given(master=st.lists(hls_lines, max_size=25), media=st.lists(hls_lines, max_size=25))
def test_hls_garbage_raises_only_manifest_errors(master: list[str], media: list[str]) -> None:
    master_text = "#EXTM3U\n" + "\n".join(master)
    media_text = "#EXTM3U\n" + "\n".join(media)
    with contextlib.suppress(ManifestError):
        urls = media_playlist_urls(master_text, BASE)
        parse_hls(master_text, BASE, dict.fromkeys(urls, media_text))


@given(st.text(max_size=300))
def test_unstructured_garbage_raises_only_manifest_errors(text: str) -> None:
    for call in (
        lambda: parse_hls(text, BASE, {}),
        lambda: parse_hls("#EXTM3U\n" + text, BASE, {}),
        lambda: parse_dash(text, MPD_URL),
        lambda: parse_dash("<MPD" + text, MPD_URL),
    ):
        with contextlib.suppress(ManifestError):
            call()


MPD_SKELETON = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type={type} mediaPresentationDuration={mpd}>
  <Period duration={period}><AdaptationSet contentType={kind} frameRate={rate}>
    <Representation id={id} bandwidth={bandwidth} width={width}>
      <SegmentTemplate timescale={timescale} duration={duration} startNumber={start}
        media={media} initialization={init}><SegmentTimeline><S t={t} d={d} r={r}/></SegmentTimeline>
      </SegmentTemplate></Representation></AdaptationSet></Period></MPD>"""
FIELDS = ["type", "mpd", "period", "kind", "rate", "id", "bandwidth", "width", "timescale"]
FIELDS += ["duration", "start", "media", "init", "t", "d", "r"]
values = st.one_of(
    st.sampled_from(["static", "PT10S", "video", "24/1", "1000", "0", "-1", "$Number$", "$Time$"]),
    st.text(alphabet="0123456789-.PTHMSD$%dNumberTime/", max_size=12),
    st.text(max_size=8),
)


@given(st.fixed_dictionaries({name: values for name in FIELDS}))
def test_mpd_attribute_garbage_raises_only_manifest_errors(attributes: dict[str, str]) -> None:
    text = MPD_SKELETON.format(**{k: quoteattr(v) for k, v in attributes.items()})
    with contextlib.suppress(ManifestError):
        parse_dash(text, MPD_URL)


@given(
    st.recursive(
        st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=5),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=4)
        ),
        max_leaves=20,
    ),
    st.sampled_from(["segment_duration_ms", "bitrates_kbps", "segment_sizes_bits"]),
)
def test_sabre_garbage_raises_only_manifest_errors(value: object, key: str) -> None:
    data: dict[str, object] = {
        "segment_duration_ms": 3000,
        "bitrates_kbps": [100, 200],
        "segment_sizes_bits": [[1.0, 2.0]],
    }
    data[key] = value
    with contextlib.suppress(ManifestError):
        parse_sabre_video(data, "x.json")
