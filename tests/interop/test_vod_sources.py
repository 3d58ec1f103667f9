"""On-demand titles packaged by other tools, played to the end by our engine with libmpv
decoding, over nginx on 127.0.0.1: ffmpeg's dash muxer with a SegmentTimeline, and Shaka
Packager's on-demand HLS, whose segments are byte ranges of one file per rendition."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from interop_play import LADDER, SEGMENT_S, ladder_args, pattern_input, play_headless
from shaka_packager import on_demand_hls
from static_site import static_site

pytestmark = pytest.mark.slow

SECONDS = 10


def _encode(folder: Path, output: list[str]) -> None:
    args = ["ffmpeg", "-v", "error", "-y", *pattern_input(SECONDS), *ladder_args(), *output]
    subprocess.run(args, cwd=folder, check=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def vod_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    media = tmp_path_factory.mktemp("vod-sources")
    (media / "ffmpeg-dash").mkdir()
    (media / "shaka-hls").mkdir()
    dash = ["-f", "dash", "-use_timeline", "1", "-use_template", "1"]
    _encode(media / "ffmpeg-dash", [*dash, "-seg_duration", str(SEGMENT_S), "manifest.mpd"])
    _encode(media / "shaka-hls", ["mezzanine.mp4"])
    streams = [str(i) for i in range(len(LADDER))]
    on_demand_hls(media / "shaka-hls" / "mezzanine.mp4", media / "shaka-hls", streams)
    with static_site(media, tmp_path_factory.mktemp("nginx")) as base:
        yield base


@pytest.mark.parametrize(
    ("manifest", "written", "layout"),
    [
        ("ffmpeg-dash/manifest.mpd", "ffmpeg-dash/manifest.mpd", "<SegmentTimeline>"),
        ("shaka-hls/master.m3u8", "shaka-hls/v1.m3u8", "#EXT-X-BYTERANGE"),
    ],
    ids=["ffmpeg-dash-timeline", "shaka-hls-byteranges"],
)
def test_plays_to_the_end_switching_up(
    vod_site: str, manifest: str, written: str, layout: str
) -> None:
    assert layout in httpx.get(f"{vod_site}/{written}").text  # the layout this test is about
    played = asyncio.run(play_headless(f"{vod_site}/{manifest}", None, abr="throughput"))
    detail = played.describe()
    presentation = played.result.presentation
    assert played.result.failure is None, detail
    assert not presentation.timeline.live, detail
    assert presentation.duration_s == pytest.approx(SECONDS, abs=0.1), detail
    assert played.result.metrics.ended_at is not None, detail
    assert [n for n, _ in played.result.metrics.buffered] == list(range(SECONDS // SEGMENT_S))
    renditions = played.renditions
    assert renditions[0] == 0 and max(renditions) == len(LADDER) - 1, detail
    assert played.decoded_s > SECONDS - 2 * SEGMENT_S, detail  # libmpv played it through
