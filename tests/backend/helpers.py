"""Helpers shared by the backend tests: clips, a running `streamlab serve`, ingest."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend_stub.client import ApiClient, IngestRequest, sha256_file
from backend_stub.config import BackendConfig
from backend_stub.media.ffmpeg import synthesize_clip
from backend_stub.models import Video

REPO = Path(__file__).resolve().parents[2]


def skip_unless_tools(suite: str, *tools: str) -> None:
    """Skip the calling test module when a system tool it drives is not installed."""
    missing = [t for t in tools if shutil.which(t) is None and not Path(f"/usr/sbin/{t}").exists()]
    if missing:
        pytest.skip(
            f"{suite} need {', '.join(missing)} (scripts/install-system-deps.sh)",
            allow_module_level=True,
        )


def make_clip(
    path: Path, seconds: int = 10, size: str = "854x480", source: str = "testsrc2"
) -> Path:
    """A test pattern with a tone, encoded fast; ~1 s of CPU for 10 s."""
    return synthesize_clip(path, seconds, f"{source}=size={size}:rate=30")


@dataclass
class Stack:
    data_dir: Path
    api: str
    edge: str
    shield: str
    origin: str
    proc: subprocess.Popen[str]

    @property
    def config(self) -> BackendConfig:
        return BackendConfig.load(self.data_dir / "backend.json")

    def token(self, username: str) -> str:
        resp = httpx.post(
            f"{self.api}/api/v1/auth/token",
            json={"username": username, "password": f"{username}-pw"},
        )
        resp.raise_for_status()
        token: str = resp.json()["access_token"]
        return token

    def origin_fetches(self, prefix: str = "") -> dict[str, Any]:
        """The origin's fetch counter (the serve must run with --debug-endpoints)."""
        resp = httpx.get(f"{self.origin}/api/v1/debug/origin-fetches", params={"prefix": prefix})
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    def fetches(self, key: str) -> int:
        return int(self.origin_fetches(key)["fetches"].get(key, 0))

    def missing_fetches(self) -> int:
        """Requests the origin answered 404 (no such object), all objects together."""
        return int(self.origin_fetches()["missing"])


def start_serve(
    data_dir: Path, *extra: str, env: dict[str, str] | None = None
) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamlab.commands.serve",
            "--data-dir",
            str(data_dir),
            "--api-port",
            "0",
            "--edge-port",
            "0",
            "--shield-port",
            "0",
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env=None if env is None else {**os.environ, **env},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line:
        proc.wait(10)
        raise RuntimeError(f"serve did not start: {proc.stderr.read() if proc.stderr else ''}")
    return proc, json.loads(line)


def stop_serve(proc: subprocess.Popen[str]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise


def ingest(stack: Stack, clip: Path, title: str, **kw: object) -> str:
    client = ApiClient(stack.api, stack.token("alice"))
    try:
        upload_id = client.create_upload(
            IngestRequest(path=clip, title=title, **kw), sha256_file(clip)
        )  # type: ignore[arg-type]
        client.send(upload_id, clip, chunk_size=256 * 1024)
        video_id = client.complete(upload_id)
        client.wait_ready(video_id, timeout=120)
        return video_id
    finally:
        client.close()


def add_video(
    sessions: sessionmaker[Session], video_id: str, source_key: str = "raw/x/source.mp4"
) -> None:
    """A PENDING video row, as the upload API would make it, for queue and worker tests."""
    with sessions.begin() as s:
        s.add(
            Video(
                id=video_id,
                title=video_id,
                status="PENDING",
                source_key=source_key,
                genre="",
                tags=[],
                media={},
                options={},
                created_at=0,
                updated_at=0,
            )
        )


def wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
