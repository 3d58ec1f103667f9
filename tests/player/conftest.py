"""Video-only ffmpeg ladders for the player tests (HLS MPEG-TS, DASH CMAF) and an HTTP server;
Shaka Packager's on-demand DASH (one file per rendition, with audio) behind a real nginx,
which serves byte ranges as CDNs do."""

from __future__ import annotations

import shutil
import subprocess
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
from shaka_packager import on_demand
from static_site import static_site

LADDER = ((240, "300k"), (360, "600k"), (480, "1000k"))
SOURCE = "testsrc2=size=854x480:rate=24:duration=8"


def _encode(out: Path, muxer_args: list[str], audio: bool = False) -> None:
    split = "".join(f"[s{i}]" for i in range(len(LADDER)))
    scales = ";".join(f"[s{i}]scale=-2:{h}[v{i}]" for i, (h, _) in enumerate(LADDER))
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", SOURCE]
    if audio:
        args += ["-f", "lavfi", "-i", "sine=frequency=440:duration=8"]
    args += ["-filter_complex", f"[0:v]split={len(LADDER)}{split};{scales}"]
    for i, (_, rate) in enumerate(LADDER):
        args += ["-map", f"[v{i}]", f"-b:v:{i}", rate]
    if audio:
        args += ["-map", "1:a", "-c:a", "aac", "-b:a", "64k"]
    # GOP-aligned 2 s segments at 24 fps, parameter sets in every keyframe.
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "48", "-keyint_min", "48"]
    args += ["-sc_threshold", "0", "-x264-params", "repeat-headers=1"]
    subprocess.run(args + muxer_args, cwd=out, check=True, timeout=120)


@pytest.fixture(scope="session")
def ladder(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    root = tmp_path_factory.mktemp("ladder")
    streams = " ".join(f"v:{i}" for i in range(len(LADDER)))
    hls_common = ["-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod"]
    hls_common += ["-master_pl_name", "master.m3u8", "-var_stream_map", streams]
    (root / "hls-ts").mkdir()
    _encode(
        root / "hls-ts", [*hls_common, "-hls_segment_filename", "v%v/seg%03d.ts", "v%v/index.m3u8"]
    )
    (root / "dash").mkdir()
    _encode(
        root / "dash",
        [
            "-f",
            "dash",
            "-seg_duration",
            "2",
            "-use_template",
            "1",
            "-use_timeline",
            "0",
            "-init_seg_name",
            "init-$RepresentationID$.m4s",
            "-media_seg_name",
            "chunk-$RepresentationID$-$Number%05d$.m4s",
            "manifest.mpd",
        ],
    )
    return {"hls_ts": root / "hls-ts" / "master.m3u8", "dash": root / "dash" / "manifest.mpd"}


class FaultyHandler(SimpleHTTPRequestHandler):
    """Serves files; `faults` maps a path suffix to a list of statuses to answer first."""

    faults: ClassVar[dict[str, list[int]]] = {}

    def do_GET(self) -> None:
        for suffix, statuses in self.faults.items():
            if self.path.endswith(suffix) and statuses:
                self.send_error(statuses.pop(0))
                return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture()
def server(ladder: dict[str, Path]) -> Iterator[tuple[str, type[FaultyHandler]]]:
    root = ladder["dash"].parent.parent
    handler = type("Handler", (FaultyHandler,), {"faults": {}})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def on_demand_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Shaka's on-demand profile of the ladder plus AAC audio, served by nginx: its base URL.

    `manifest.mpd` is the packager's; `missing-index.mpd` points its middle rung at a file
    that is not there."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    media = tmp_path_factory.mktemp("on-demand")
    _encode(media, ["mezzanine.mp4"], audio=True)
    streams = [str(i) for i in range(len(LADDER))] + ["audio"]
    mpd = on_demand(media / "mezzanine.mp4", media, streams).read_text()
    (media / "missing-index.mpd").write_text(mpd.replace("<BaseURL>1.mp4", "<BaseURL>gone.mp4"))
    with static_site(media, tmp_path_factory.mktemp("nginx")) as base:
        yield base
