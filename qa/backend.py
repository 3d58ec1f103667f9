"""The backend a QA run plays from: `streamlab serve` started here, or one already running.

`ManagedBackend` starts `streamlab serve` on free ports in its own data dir with a small demo
catalog (short clips, 2 s segments, fast presets) and knows its processes, so the fault
injector can act on the real origin and edge. `Api` makes the calls a player makes: log in,
list titles, get a signed manifest URL, report progress. Every wait has a time-out: an
unreachable or dead backend is a one-line `QaInputError`, never a hang.
"""

from __future__ import annotations

import asyncio
import json
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from backend_stub.config import BackendConfig
from qa.errors import QaInputError

API_TIMEOUT = httpx.Timeout(10.0, connect=3.0)
DEVICE_TYPE = "desktop"


@dataclass(frozen=True)
class Manifest:
    video_id: str
    url: str  # signed, through the edge
    playback_session_id: str
    duration_s: float


@dataclass(frozen=True)
class Title:
    video_id: str
    title: str
    duration_s: float


class ManagedBackend:
    """`streamlab serve` as a child process, stopped (SIGTERM, then SIGKILL) by `stop()`."""

    def __init__(self, data_dir: Path, demo_seconds: int, max_height: int) -> None:
        self.data_dir = data_dir
        self.demo_seconds = demo_seconds
        self.max_height = max_height
        self.proc: subprocess.Popen[bytes] | None = None
        self.api = ""

    def start(self, timeout_s: float = 120.0) -> str:
        """Start serve and wait for its ready line; returns the API URL."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = (self.data_dir / "serve.log").open("ab")
        args = ["--data-dir", str(self.data_dir), "--api-port", "0", "--edge-port", "0"]
        args += ["--shield-port", "0", "--demo-catalog", "--demo-seconds", str(self.demo_seconds)]
        # 2 s segments and fast encodes: many decisions per short clip, a catalog in seconds.
        args += ["--segment-seconds", "2", "--preset", "ultrafast"]
        args += ["--max-height", str(self.max_height)]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlab.commands.serve", *args],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=log,
        )
        log.close()
        assert self.proc.stdout is not None
        ready, _, _ = select.select([self.proc.stdout], [], [], timeout_s)
        line = self.proc.stdout.readline() if ready else b""
        if not line:
            self.stop()
            tail = _tail(self.data_dir / "serve.log")
            raise QaInputError(f"streamlab serve did not start within {timeout_s:.0f} s: {tail}")
        self.api = str(json.loads(line)["api"])
        return self.api

    def stop(self) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def config(self) -> BackendConfig:
        return BackendConfig.load(self.data_dir / "backend.json")

    def origin_process(self) -> psutil.Process:
        return self._child(lambda cmd: "backend_stub.api.app" in cmd)

    def edge_process(self) -> psutil.Process:
        """The edge nginx master (its workers are its children)."""
        edge_dir = str(self.data_dir.resolve() / "edge")
        return self._child(lambda cmd: "nginx" in cmd[0] and edge_dir in cmd)

    def _child(self, match: Callable[[list[str]], bool]) -> psutil.Process:
        assert self.proc is not None
        for child in psutil.Process(self.proc.pid).children():
            try:
                if match(child.cmdline()):
                    return child
            except psutil.NoSuchProcess:
                continue
        raise RuntimeError(f"no such process under streamlab serve (pid {self.proc.pid})")


def _tail(path: Path) -> str:
    try:
        lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return "(no log)"
    return lines[-1] if lines else "(empty log)"


class Api:
    """The API calls a player makes, logged in as one user."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.http = httpx.AsyncClient(base_url=self.base, timeout=API_TIMEOUT)

    async def close(self) -> None:
        await self.http.aclose()

    async def alive(self) -> bool:
        try:
            return (await self.http.get("/healthz")).status_code == 200
        except httpx.HTTPError:
            return False

    async def login(self, username: str, password: str) -> None:
        try:
            resp = await self.http.get("/healthz")
        except httpx.HTTPError as exc:
            raise QaInputError(
                f"backend {self.base} is unreachable ({exc.__class__.__name__}: {exc})"
            ) from exc
        if resp.status_code != 200:
            raise QaInputError(f"backend {self.base}/healthz answered HTTP {resp.status_code}")
        data = await self._json(
            "POST", "/api/v1/auth/token", json={"username": username, "password": password}
        )
        self.http.headers["Authorization"] = f"Bearer {data['access_token']}"

    async def ready_titles(self, timeout_s: float) -> list[Title]:
        """Every title once none is still being packaged (FAILED ones are left out)."""
        deadline = time.monotonic() + timeout_s
        while True:
            videos = (await self._json("GET", "/api/v1/videos"))["videos"]
            pending = [v for v in videos if v["status"] not in ("READY", "FAILED")]
            ready = [
                Title(v["video_id"], v["title"], float(v["duration_seconds"] or 0.0))
                for v in videos
                if v["status"] == "READY"
            ]
            if not pending and ready:
                return ready
            if not pending:
                raise QaInputError(f"backend {self.base} has no playable title")
            if time.monotonic() > deadline:
                raise QaInputError(
                    f"backend {self.base}: {len(pending)} titles still not READY after "
                    f"{timeout_s:.0f} s"
                )
            await asyncio.sleep(0.5)

    async def manifest(self, video_id: str) -> Manifest:
        data = await self._json(
            "GET", f"/api/v1/videos/{video_id}/manifest", headers={"X-Device-Type": DEVICE_TYPE}
        )
        return Manifest(
            video_id,
            str(data["dash_manifest_url"]),
            str(data["playback_session_id"]),
            float(data["duration_seconds"] or 0.0),
        )

    async def report_progress(
        self, manifest: Manifest, offset_s: float, reported_at: float
    ) -> dict[str, Any]:
        """Raises httpx.HTTPError (or HTTPStatusError) when the report did not get through."""
        resp = await self.http.post(
            "/api/v1/playback/progress",
            json={
                "video_id": manifest.video_id,
                "playback_session_id": manifest.playback_session_id,
                "offset_seconds": offset_s,
                "device_id": f"qa-{os.getpid()}",
                "reported_at": reported_at,
            },
        )
        resp.raise_for_status()
        data: dict[str, Any] = resp.json()
        return data

    async def stored_progress(self, manifest: Manifest) -> tuple[float, float]:
        """(offset, reported_at) the server holds for this user and title.

        Read through the idempotent write: a report older than the stored one changes
        nothing and is answered with the stored row (there is no read endpoint for a
        finished title, which continue-watching leaves out)."""
        data = await self.report_progress(manifest, 0.0, reported_at=1.0)
        return float(data["offset_seconds"]), float(data["reported_at"])

    async def _json(self, method: str, path: str, **kw: Any) -> dict[str, Any]:
        try:
            resp = await self.http.request(method, path, **kw)
        except httpx.HTTPError as exc:
            raise QaInputError(
                f"backend {self.base}{path}: {exc.__class__.__name__}: {exc}"
            ) from exc
        if resp.status_code >= 400:
            raise QaInputError(
                f"backend {self.base}{path}: HTTP {resp.status_code}: {resp.text[:200]}"
            )
        data: dict[str, Any] = resp.json()
        return data
