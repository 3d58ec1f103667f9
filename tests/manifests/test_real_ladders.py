"""HLS and DASH manifests that ffmpeg wrote for the same ladder parse to the same presentation."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

import pytest

from abr.manifests import ManifestError, media_playlist_urls, parse_dash, parse_hls
from abr.presentation import Presentation


def load_hls(master: Path) -> Presentation:
    base = master.as_uri()
    text = master.read_text()
    media = {url: Path(urlparse(url).path).read_text() for url in media_playlist_urls(text, base)}
    return parse_hls(text, base, media)


def load_dash(mpd: Path) -> Presentation:
    return parse_dash(mpd.read_text(), mpd.as_uri())


def local(url: str | None) -> Path:
    assert url is not None
    return Path(urlparse(url).path)


@pytest.mark.parametrize("hls_key", ["hls_ts", "hls_fmp4"])
@pytest.mark.parametrize("dash_key", ["dash", "dash_timeline"])
def test_hls_and_dash_describe_the_same_ladder(
    ladder: dict[str, Path], hls_key: str, dash_key: str
) -> None:
    hls, dash = load_hls(ladder[hls_key]), load_dash(ladder[dash_key])
    assert (
        [r.height for r in hls.renditions] == [r.height for r in dash.renditions] == [240, 360, 480]
    )
    assert hls.segment_count == dash.segment_count == 4
    assert hls.segment_durations_s == pytest.approx(dash.segment_durations_s, abs=1 / 24)
    assert hls.duration_s == pytest.approx(8.0, abs=0.05)
    for h, d in zip(hls.renditions, dash.renditions, strict=True):
        assert h.bandwidth_bps == pytest.approx(
            d.bandwidth_bps, rel=0.15
        )  # HLS adds muxing overhead


@pytest.mark.parametrize("key", ["hls_ts", "dash", "dash_timeline"])
def test_every_segment_url_points_at_a_file(ladder: dict[str, Path], key: str) -> None:
    presentation = load_hls(ladder[key]) if key.startswith("hls") else load_dash(ladder[key])
    for rendition in presentation.renditions:
        for segment in rendition.segments:
            assert local(segment.url).is_file(), segment.url
            assert segment.size_is_estimate  # these formats do not announce sizes
        if key.startswith("dash"):
            assert rendition.init is not None and local(rendition.init.url).is_file()


def test_byte_ranges_give_real_sizes_and_the_init_section(ladder: dict[str, Path]) -> None:
    presentation = load_hls(ladder["hls_fmp4"])
    for rendition in presentation.renditions:
        assert rendition.init is not None and rendition.init.byte_range is not None
        file = local(rendition.segments[0].url)
        assert all(not s.size_is_estimate for s in rendition.segments)
        media_bytes = sum(s.size_bits for s in rendition.segments) / 8
        init_bytes = rendition.init.byte_range[1] - rendition.init.byte_range[0] + 1
        assert media_bytes + init_bytes == file.stat().st_size


def test_a_missing_media_playlist_is_named(ladder: dict[str, Path]) -> None:
    master = ladder["hls_ts"]
    with pytest.raises(ManifestError, match=r"v0/index\.m3u8 was not provided"):
        parse_hls(master.read_text(), master.as_uri(), {})
