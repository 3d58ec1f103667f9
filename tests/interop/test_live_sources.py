"""Live channels packaged by other tools, played by our engine while they are being written.

ffmpeg's dash muxer (SegmentTimeline, $Number$ templates), ffmpeg's hls muxer (fMP4 and
MPEG-TS, sliding window, PROGRAM-DATE-TIME) and Shaka Packager's live profile (ffmpeg → UDP
→ packager: a dynamic MPD and live HLS of the same segments) each encode the test pattern in
real time into their own folder, served by one nginx on 127.0.0.1. Once each has a few
segments out, all five manifests are played at once for PLAY_S by the engine with libmpv
decoding (so the module's wall time is about one play, not five): the acceptance of issue 16
is live for 60 s with renditions switching and the latency within 1 s of the target.
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from interop_play import (
    LADDER,
    SEGMENT_S,
    X264,
    Played,
    ladder_args,
    pattern_input,
    play_headless,
)
from shaka_packager import packager
from static_site import static_site

pytestmark = pytest.mark.slow

PLAY_S = 60.0
SETTLE_S = 15.0  # the latency is judged after this much play (join, first catch-up)
TARGET_LATENCY_S = 3.0 * SEGMENT_S
WINDOW = 6  # segments each source keeps listed
READY_SEGMENTS = 3  # listed before playing starts, so the join has target latency to spare


@dataclass(frozen=True)
class Source:
    """A running packager: its processes and the manifests it writes (relative to its folder)."""

    processes: tuple[subprocess.Popen[bytes], ...]
    manifests: dict[str, str]  # test id -> manifest path in the folder
    ready: Callable[[Path], bool]


def _segments_out(pattern: str) -> Callable[[Path], bool]:
    def ready(folder: Path) -> bool:
        return len(list(folder.glob(pattern))) >= READY_SEGMENTS * len(LADDER)

    return ready


def _ffmpeg(folder: Path, muxer: list[str]) -> subprocess.Popen[bytes]:
    args = ["ffmpeg", "-v", "error", "-y", *pattern_input(realtime=True), *ladder_args(), *muxer]
    return subprocess.Popen(args, cwd=folder, stdin=subprocess.DEVNULL)


def ffmpeg_dash(folder: Path) -> Source:
    muxer = ["-f", "dash", "-streaming", "1", "-window_size", str(WINDOW)]
    muxer += ["-use_timeline", "1", "-use_template", "1", "-seg_duration", str(SEGMENT_S)]
    muxer += ["live.mpd"]
    return Source((_ffmpeg(folder, muxer),), {"ffmpeg-dash": "live.mpd"}, _segments_out("chunk*"))


def ffmpeg_hls(folder: Path, fmp4: bool) -> Source:
    streams = " ".join(f"v:{i}" for i in range(len(LADDER)))
    extension = "m4s" if fmp4 else "ts"
    muxer = ["-f", "hls", "-hls_time", str(SEGMENT_S), "-hls_list_size", str(WINDOW)]
    muxer += ["-hls_flags", "delete_segments+program_date_time"]
    muxer += ["-master_pl_name", "master.m3u8", "-var_stream_map", streams]
    muxer += ["-hls_segment_filename", f"v%v/seg%05d.{extension}"]
    if fmp4:
        muxer += ["-hls_segment_type", "fmp4", "-hls_fmp4_init_filename", "init.mp4"]
    for i in range(len(LADDER)):
        (folder / f"v{i}").mkdir()
    name = "ffmpeg-hls-fmp4" if fmp4 else "ffmpeg-hls-ts"
    process = _ffmpeg(folder, [*muxer, "v%v/live.m3u8"])
    return Source((process,), {name: "master.m3u8"}, _segments_out(f"v*/seg*.{extension}"))


def _udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def shaka_live(folder: Path) -> Source:
    """Shaka Packager's live input is MPEG-TS over UDP (its docs: the one live protocol it reads
    directly): ffmpeg sends each rung to its own port, the packager cuts $Number$ segments and
    writes a dynamic MPD and live HLS playlists from them."""
    ports = [_udp_port() for _ in LADDER]
    streams = [
        f"in=udp://127.0.0.1:{port},stream=video,init_segment=v{i}/init.mp4,"
        f"segment_template=v{i}/$Number$.m4s,playlist_name=v{i}.m3u8"
        for i, port in enumerate(ports)
    ]
    args = [str(packager()), *streams, "--segment_duration", str(SEGMENT_S)]
    args += ["--mpd_output", "live.mpd", "--hls_master_playlist_output", "master.m3u8"]
    args += ["--hls_playlist_type", "LIVE", "--time_shift_buffer_depth", str(WINDOW * SEGMENT_S)]
    args += ["--preserved_segments_outside_live_window", "3"]
    shaka = subprocess.Popen(
        args, cwd=folder, stdin=subprocess.DEVNULL, stderr=(folder / "packager.log").open("wb")
    )
    split = "".join(f"[s{i}]" for i in range(len(LADDER)))
    scales = ";".join(f"[s{i}]scale=-2:{h}[v{i}]" for i, (h, _) in enumerate(LADDER))
    encode = ["ffmpeg", "-v", "error", *pattern_input(realtime=True)]
    encode += ["-filter_complex", f"[0:v]split={len(LADDER)}{split};{scales}"]
    for i, ((_, rate), port) in enumerate(zip(LADDER, ports, strict=True)):
        encode += ["-map", f"[v{i}]", *X264, "-b:v", rate]
        encode += ["-f", "mpegts", f"udp://127.0.0.1:{port}?pkt_size=1316"]
    ffmpeg = subprocess.Popen(encode, cwd=folder, stdin=subprocess.DEVNULL)
    manifests = {"shaka-dash": "live.mpd", "shaka-hls": "master.m3u8"}
    return Source((shaka, ffmpeg), manifests, _segments_out("v*/*.m4s"))


@pytest.fixture(scope="module")
def live_plays(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Played]]:
    """Every source started, served, and played at once for PLAY_S: each manifest's run."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    packager()  # skips when Shaka Packager is missing
    media = tmp_path_factory.mktemp("live-sources")
    starts: dict[str, Callable[[Path], Source]] = {
        "ffmpeg-dash": ffmpeg_dash,
        "ffmpeg-hls-fmp4": lambda f: ffmpeg_hls(f, fmp4=True),
        "ffmpeg-hls-ts": lambda f: ffmpeg_hls(f, fmp4=False),
        "shaka": shaka_live,
    }
    sources: dict[str, Source] = {}
    try:
        with static_site(media, tmp_path_factory.mktemp("nginx")) as base:
            for name, start in starts.items():
                (media / name).mkdir()
                sources[name] = start(media / name)
            deadline = time.monotonic() + 30 + READY_SEGMENTS * SEGMENT_S
            while not all(s.ready(media / n) for n, s in sources.items()):
                for name, source in sources.items():
                    for process in source.processes:
                        assert process.poll() is None, f"{name}: {process.args} exited early"
                assert time.monotonic() < deadline, "a live source wrote no segments in time"
                time.sleep(0.2)
            urls = {
                test: f"{base}/{name}/{manifest}"
                for name, source in sources.items()
                for test, manifest in source.manifests.items()
            }

            async def play_all() -> list[Played]:
                runs = (play_headless(url, PLAY_S, TARGET_LATENCY_S) for url in urls.values())
                return await asyncio.gather(*runs)

            yield dict(zip(urls, asyncio.run(play_all()), strict=True))
    finally:
        for source in sources.values():
            for process in source.processes:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()


LIVE = ["ffmpeg-dash", "ffmpeg-hls-fmp4", "ffmpeg-hls-ts", "shaka-dash", "shaka-hls"]


@pytest.mark.parametrize("name", LIVE)
def test_plays_a_minute_live_switching_up_at_the_target_latency(
    live_plays: dict[str, Played], name: str
) -> None:
    played = live_plays[name]
    detail = played.describe()
    assert played.result.failure is None, detail
    assert played.result.presentation.timeline.live, detail
    assert played.result.summary.played_s > PLAY_S - 10, detail
    assert played.result.summary.stall_count == 0, detail
    # libmpv decoded the minute, not just the engine downloading it.
    assert played.decoded_s > PLAY_S - 15, detail
    renditions = played.renditions
    assert renditions[0] == 0 and max(renditions) == len(LADDER) - 1, detail
    latency = played.mean_latency_after(SETTLE_S)
    assert latency == pytest.approx(TARGET_LATENCY_S, abs=1.0), detail
