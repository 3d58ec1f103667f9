"""Backend fixtures: a real `streamlab serve` (origin, workers, nginx edge + shield) on random
ports, real ffmpeg clips, real SQLite. Skipped only when ffmpeg or nginx is missing."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.helpers import Stack, ingest, make_clip, start_serve, stop_serve
from backend_stub.auth import create_user
from backend_stub.db import session_factory

MISSING = [
    tool
    for tool in ("ffmpeg", "ffprobe", "nginx")
    if shutil.which(tool) is None and not Path(f"/usr/sbin/{tool}").exists()
]
if MISSING:
    pytest.skip(
        f"backend tests need {', '.join(MISSING)} (scripts/install-system-deps.sh)",
        allow_module_level=True,
    )


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("serve-data")
    proc, info = start_serve(
        data_dir,
        "--workers",
        "2",
        "--preset",
        "ultrafast",
        "--hls-ts",
        "--device-cap",
        "mobile=360",
        "--visibility-timeout",
        "10",
    )
    st = Stack(data_dir, info["api"], info["edge"], info["shield"], info["origin"], proc)
    sessions = session_factory(st.config.database_url)
    for name in ("alice", "bob"):
        create_user(sessions, name, f"{name}-pw")
    sessions.kw["bind"].dispose()
    yield st
    stop_serve(proc)


@pytest.fixture(scope="session")
def ready_video(stack: Stack, clip: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    vtt = tmp_path_factory.mktemp("subs") / "en.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHello from the test pattern\n")
    return ingest(stack, clip, "Fixture Pattern", intro=(1.0, 4.0), subtitles=(("en", vtt),))


@pytest.fixture()
def alice(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('alice')}"}


@pytest.fixture()
def bob(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('bob')}"}
