"""Manifests that ffmpeg and Shaka Packager wrote for one ladder parse to the same presentation."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlparse

import pytest

from abr.manifests import (
    ManifestError,
    dash_audio_renditions,
    dash_content_protection,
    hls_segment_keys,
    indexed_rendition,
    media_playlist_urls,
    parse_dash,
    parse_hls,
    with_indexes,
)
from abr.presentation import Presentation, Rendition

if TYPE_CHECKING:
    from conftest import Ladder

HLS = ["hls_ts", "hls_ts_aes", "hls_fmp4", "hls_fmp4_single"]
DASH = ["dash", "dash_timeline"]


def media_texts(master: Path) -> dict[str, str]:
    """What a player would fetch: each URL `media_playlist_urls` names, here from disk."""
    urls = media_playlist_urls(master.read_text(), master.as_uri())
    return {url: local(url).read_text() for url in urls}


def load_hls(master: Path) -> Presentation:
    return parse_hls(master.read_text(), master.as_uri(), media_texts(master))


def load_dash(mpd: Path) -> Presentation:
    return parse_dash(mpd.read_text(), mpd.as_uri())


def load(path: Path) -> Presentation:
    return load_hls(path) if path.suffix == ".m3u8" else load_dash(path)


def local(url: str | None) -> Path:
    assert url is not None and url.startswith("file://"), url
    return Path(urlparse(url).path)


@pytest.mark.parametrize("hls_key", HLS)
@pytest.mark.parametrize("dash_key", DASH)
def test_hls_and_dash_describe_the_same_ladder(ladder: Ladder, hls_key: str, dash_key: str) -> None:
    hls, dash = load_hls(ladder.paths[hls_key]), load_dash(ladder.paths[dash_key])
    assert (
        [r.height for r in hls.renditions]
        == [r.height for r in dash.renditions]
        == list(ladder.heights)
    )
    assert hls.segment_count == dash.segment_count == ladder.segments
    # Same timeline to within a frame (muxers round the last segment differently).
    assert hls.segment_durations_s == pytest.approx(dash.segment_durations_s, abs=1 / ladder.fps)
    assert hls.duration_s == pytest.approx(ladder.seconds, abs=1 / ladder.fps)
    for h, d in zip(hls.renditions, dash.renditions, strict=True):
        # HLS BANDWIDTH adds muxing overhead (and the audio group's rate, for hls_ts).
        assert 0.8 < h.bandwidth_bps / d.bandwidth_bps < 1.6


@pytest.mark.parametrize("key", HLS + DASH)
def test_every_url_points_at_a_file(ladder: Ladder, key: str) -> None:
    presentation = load(ladder.paths[key])
    for rendition in presentation.renditions:
        for segment in rendition.segments:
            assert local(segment.url).is_file()
            # Only EXT-X-BYTERANGE announces sizes; everything else is bandwidth x duration.
            assert segment.size_is_estimate == (key != "hls_fmp4_single")
        fragmented = key not in ("hls_ts", "hls_ts_aes")
        assert (rendition.init is not None) == fragmented
        if rendition.init is not None:
            assert local(rendition.init.url).is_file()


@pytest.mark.parametrize("key", ["dash", "dash_timeline"])
def test_dash_template_urls_name_distinct_segments(ladder: Ladder, key: str) -> None:
    presentation = load_dash(ladder.paths[key])
    urls = [s.url for r in presentation.renditions for s in r.segments]
    assert len(set(urls)) == len(urls)
    inits = {r.init.url for r in presentation.renditions if r.init is not None}
    assert len(inits) == len(presentation.renditions)


def test_byte_ranges_tile_the_single_file(ladder: Ladder) -> None:
    presentation = load_hls(ladder.paths["hls_fmp4_single"])
    for rendition in presentation.renditions:
        assert rendition.init is not None
        ranges = [rendition.init.byte_range] + [s.byte_range for s in rendition.segments]
        assert all(r is not None for r in ranges)
        starts = [r[0] for r in ranges if r]
        ends = [r[1] for r in ranges if r]
        # Init section then segments, contiguous, covering the whole file.
        assert starts == [0] + [end + 1 for end in ends[:-1]]
        assert ends[-1] + 1 == local(rendition.segments[0].url).stat().st_size
        for s in rendition.segments:
            assert s.byte_range is not None and not s.size_is_estimate
            assert s.size_bits == (s.byte_range[1] - s.byte_range[0] + 1) * 8


def test_audio_groups_are_tracks_not_rungs(ladder: Ladder) -> None:
    master = ladder.paths["hls_ts"]
    # ffmpeg lists its audio group as an audio-only variant too (one segment longer): not a rung.
    assert len(media_playlist_urls(master.read_text(), master.as_uri())) == len(ladder.heights)
    presentation = load_hls(master)
    assert len(presentation.renditions) == len(ladder.heights)
    (audio,) = presentation.audio_tracks
    assert audio.is_default and local(audio.url).is_file()
    assert presentation.subtitle_tracks == ()
    (dash_audio,) = load_dash(ladder.paths["dash_timeline"]).audio_tracks
    assert dash_audio.codecs is not None and dash_audio.codecs.startswith("mp4a")


def test_aes_128_keys_are_reported(ladder: Ladder) -> None:
    master = ladder.paths["hls_ts_aes"]
    keys = hls_segment_keys(master.read_text(), master.as_uri(), media_texts(master))
    assert sorted(keys) == ["0", "1", "2"]
    for per_segment in keys.values():
        assert len(per_segment) == ladder.segments
        for key in per_segment:
            assert key is not None and key.method == "AES-128" and key.uri == ladder.aes_key_uri
            assert key.iv is not None and len(key.iv) == 34  # ffmpeg writes an explicit IV


def test_a_missing_media_playlist_is_named(ladder: Ladder) -> None:
    master = ladder.paths["hls_ts"]
    with pytest.raises(ManifestError, match=r"line \d+: media playlist \S+v0/index\.m3u8 was not"):
        parse_hls(master.read_text(), master.as_uri(), {})


def test_shaka_packager_cenc_output(ladder: Ladder, shaka: dict[str, Path]) -> None:
    hls, dash = load_hls(shaka["hls"]), load_dash(shaka["dash"])
    assert (
        [r.height for r in hls.renditions]
        == [r.height for r in dash.renditions]
        == list(ladder.heights)
    )
    assert hls.segment_durations_s == pytest.approx(dash.segment_durations_s, abs=1e-3)
    for presentation in (hls, dash):
        for rendition in presentation.renditions:
            assert rendition.init is not None and local(rendition.init.url).is_file()
            assert all(local(s.url).is_file() for s in rendition.segments)
            assert rendition.codecs is not None and rendition.codecs.startswith("avc1")
    assert [r.frame_rate for r in hls.renditions] == [pytest.approx(ladder.fps)] * len(
        ladder.heights
    )
    assert [r.frame_rate for r in dash.renditions] == [pytest.approx(ladder.fps)] * len(
        ladder.heights
    )
    (audio,) = hls.audio_tracks
    assert audio.codecs == "mp4a.40.2" and audio.name == "main"
    assert len(dash.audio_tracks) == 1
    protection = dash_content_protection(shaka["dash"].read_text(), shaka["dash"].as_uri())
    assert sorted(protection) == sorted(r.id for r in dash.renditions)
    for descriptors in protection.values():
        kids = {p.default_kid for p in descriptors if p.default_kid}
        assert kids == {"00112233-4455-6677-8899-aabbccddeeff"}
        assert any(p.pssh for p in descriptors)


def index_bytes(rendition: Rendition) -> bytes:
    """What a player fetches before it can play an on-demand rendition: its sidx range."""
    assert rendition.index is not None and rendition.index.byte_range is not None
    first, last = rendition.index.byte_range
    return local(rendition.index.url).read_bytes()[first : last + 1]


def load_indexes(presentation: Presentation) -> dict[int, bytes]:
    return {i: index_bytes(r) for i, r in enumerate(presentation.renditions)}


def test_shaka_on_demand_profile_is_indexed_from_its_sidx_boxes(
    ladder: Ladder, shaka_on_demand: Path
) -> None:
    mpd = shaka_on_demand.read_text()
    unindexed = parse_dash(mpd, shaka_on_demand.as_uri())
    assert not unindexed.is_indexed
    assert [r.segments for r in unindexed.renditions] == [()] * len(ladder.heights)
    presentation = with_indexes(unindexed, load_indexes(unindexed))
    assert [r.height for r in presentation.renditions] == list(ladder.heights)
    assert presentation.segment_count == ladder.segments
    assert presentation.duration_s == pytest.approx(ladder.seconds, abs=0.05)
    audio = dash_audio_renditions(mpd, shaka_on_demand.as_uri())
    audio_track = next(iter(audio.values()))
    audio_rendition, audio_durations = indexed_rendition(
        audio_track, index_bytes(audio_track), "audio"
    )
    assert sum(audio_durations) == pytest.approx(ladder.seconds, abs=0.05)
    for rendition in (*presentation.renditions, audio_rendition):
        assert rendition.init is not None and rendition.index is not None
        ranges = [rendition.init.byte_range, rendition.index.byte_range]
        ranges += [s.byte_range for s in rendition.segments]
        # init, sidx, then every subsegment: contiguous, covering the whole file.
        starts = [r[0] for r in ranges if r]
        ends = [r[1] for r in ranges if r]
        assert starts == [0] + [end + 1 for end in ends[:-1]]
        assert ends[-1] + 1 == local(rendition.segments[0].url).stat().st_size
        assert all(not s.size_is_estimate for s in rendition.segments)
        # Each subsegment is a movie fragment: a moof box opens it.
        data = local(rendition.segments[0].url).read_bytes()
        for s in rendition.segments:
            assert s.byte_range is not None
            assert data[s.byte_range[0] + 4 : s.byte_range[0] + 8] in (b"moof", b"styp")


def test_a_truncated_index_names_the_rendition(shaka_on_demand: Path) -> None:
    unindexed = parse_dash(shaka_on_demand.read_text(), shaka_on_demand.as_uri())
    boxes = load_indexes(unindexed)
    boxes[1] = boxes[1][:-5]
    rendition = unindexed.renditions[1].id
    with pytest.raises(ManifestError, match=f"rendition '{rendition}': segment index: box"):
        with_indexes(unindexed, boxes)
