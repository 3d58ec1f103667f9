"""QA harness fixtures: short traces, and `streamlab qa` run in-process against real
`streamlab serve` (origin, workers, nginx edge + shield, ffmpeg-made demo catalog)."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from backend.helpers import skip_unless_tools
from qa_helpers import CLIP_SECONDS, MAX_HEIGHT, write_trace

from qa.backend import ManagedBackend, log_in, open_api, ready_titles

skip_unless_tools("qa tests", "ffmpeg", "ffprobe", "nginx")


@pytest.fixture(scope="session")
def traces(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three constant links the 240p/360p demo ladder fits comfortably."""
    folder = tmp_path_factory.mktemp("traces")
    for name, kbps in (("3mbit", 3000), ("5mbit", 5000), ("20mbit", 20000)):
        write_trace(folder, name, kbps)
    return folder


@pytest.fixture(scope="session")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A backend data dir with the demo catalog packaged, made by `ManagedBackend` once."""
    data = tmp_path_factory.mktemp("qa-backend")
    backend = ManagedBackend(data, int(CLIP_SECONDS), int(MAX_HEIGHT))
    backend.start()

    async def wait_until_packaged() -> None:
        api = open_api(backend.api)
        try:
            await log_in(api, "demo", "demo")
            await ready_titles(api, 180)
        finally:
            await api.client.aclose()

    try:
        asyncio.run(wait_until_packaged())
    finally:
        backend.stop()
    return data


@pytest.fixture()
def prepackaged_out(tmp_path: Path, packaged: Path) -> Path:
    """A qa output folder whose `backend/` already holds the packaged catalog: the
    `streamlab serve` qa starts there skips transcoding and is up in seconds."""
    out = tmp_path / "out"
    shutil.copytree(packaged, out / "backend")
    return out


@pytest.fixture(scope="session")
def backend(packaged: Path) -> Iterator[ManagedBackend]:
    """`streamlab serve` on the packaged data dir (no transcoding: it starts in seconds)."""
    running = ManagedBackend(packaged, int(CLIP_SECONDS), int(MAX_HEIGHT))
    running.start()
    yield running
    running.stop()
