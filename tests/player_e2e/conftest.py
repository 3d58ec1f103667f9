"""The Qt player against a real `streamlab serve` (origin, workers, nginx edge and shield) on
127.0.0.1, with two ffmpeg-made titles: one clear, one CENC-encrypted. Qt runs offscreen and
libmpv renders in software, so no display is needed."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from backend.helpers import Stack, ingest, make_clip, skip_unless_tools, start_serve, stop_serve

from backend_stub.auth import create_user
from backend_stub.db import session_factory

skip_unless_tools("the player tests", "ffmpeg", "nginx")


def two_languages(path: Path, seconds: int = 16) -> Path:
    """A test pattern with two audio tracks, English (440 Hz) and French (880 Hz)."""
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=854x480:rate=30"]
    cmd += ["-f", "lavfi", "-i", "sine=frequency=440", "-f", "lavfi", "-i", "sine=frequency=880"]
    cmd += ["-t", str(seconds), "-map", "0:v", "-map", "1:a", "-map", "2:a"]
    cmd += ["-c:v", "libx264", "-preset", "ultrafast", "-pix_fmt", "yuv420p", "-c:a", "aac"]
    cmd += ["-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", str(path)]
    subprocess.run(cmd, check=True, timeout=120)
    return path


class Catalog:
    def __init__(self, stack: Stack, clear: str, locked: str) -> None:
        self.stack = stack
        self.clear = clear
        self.locked = locked


@pytest.fixture(scope="session")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Catalog]:
    root = tmp_path_factory.mktemp("ui-backend")
    proc, info = start_serve(
        root / "data", "--workers", "2", "--preset", "ultrafast", "--segment-seconds", "2"
    )
    stack = Stack(root / "data", info["api"], info["edge"], info["shield"], info["origin"], proc)
    try:
        sessions = session_factory(stack.config.database_url)
        for name in ("alice", "carol"):  # the window tests play as alice, the sync tests as carol
            create_user(sessions, name, f"{name}-pw")
        sessions.kw["bind"].dispose()
        clip = make_clip(root / "clip.mp4", seconds=16)
        vtt = root / "en.vtt"
        vtt.write_text("WEBVTT\n\n00:00:07.000 --> 00:00:15.000\nHello from the test pattern\n")
        clear = ingest(
            stack,
            two_languages(root / "two.mp4"),
            "Clear Pattern",
            intro=(2.0, 8.0),
            subtitles=(("en", vtt),),
        )
        locked = ingest(
            stack, clip, "Locked Pattern", options=(("encrypt", True), ("hls_ts", True))
        )
        yield Catalog(stack, clear, locked)
    finally:
        stop_serve(proc)
