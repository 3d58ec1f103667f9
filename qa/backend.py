"""The backend a QA run plays from: `streamlab serve` started here, or one already running.

`ManagedBackend` starts `streamlab serve` on free ports in its own data dir with a small demo
catalog (short clips, 2 s segments, fast presets) and knows its processes, so the fault
injector can act on the real origin and edge. The API calls are the player's own
(`player.api.BackendApi`); `open_api`, `log_in`, `ready_titles` and `alive` are what qa adds
around them. Every wait has a time-out: an unreachable or dead backend is a one-line `QaInputError`,
never a hang.
"""

from __future__ import annotations

import asyncio
import json
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

import api_paths as paths
from backend_stub.config import BackendConfig
from player.api import ApiError, BackendApi, Title
from qa.errors import QaInputError

API_TIMEOUT = httpx.Timeout(10.0, connect=3.0)


class ManagedBackend:
    """`streamlab serve` as a child process, stopped (SIGTERM, then SIGKILL) by `stop()`."""

    def __init__(
        self,
        data_dir: Path,
        demo_seconds: int,
        max_height: int,
        live_channel: str | None = None,
        live_dvr_seconds: int | None = None,
    ) -> None:
        """`live_channel`: run that channel (the test pattern) instead of the demo's `clock`;
        `live_dvr_seconds`: its DVR depth (serve's default when None)."""
        self.data_dir = data_dir
        self.demo_seconds = demo_seconds
        self.max_height = max_height
        self.live_channel = live_channel
        self.live_dvr_seconds = live_dvr_seconds
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
        if self.live_channel is not None:
            args += ["--live-channel", self.live_channel]
        if self.live_dvr_seconds is not None:
            args += ["--live-dvr-seconds", str(self.live_dvr_seconds)]
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


def open_api(api_url: str) -> BackendApi:
    """The player's API client (as a desktop player) on its own connections with qa's
    time-outs; `await api.client.aclose()` when done."""
    return BackendApi(api_url, httpx.AsyncClient(timeout=API_TIMEOUT))


async def log_in(api: BackendApi, username: str, password: str) -> None:
    try:
        await api.login(username, password)
    except ApiError as exc:
        what = "is unreachable" if exc.status is None else "refused the log-in"
        raise QaInputError(f"backend {api.api_url} {what} ({exc})") from exc


async def ready_titles(api: BackendApi, timeout_s: float) -> list[Title]:
    """Every title once none is still being packaged or starting (FAILED ones and channels
    OFFLINE, which serve no longer runs, are left out)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            titles = await api.titles()
        except ApiError as exc:
            raise QaInputError(f"backend {api.api_url}: {exc}") from exc
        pending = [t for t in titles if t.status not in ("READY", "FAILED", "OFFLINE")]
        ready = [t for t in titles if t.ready]
        if not pending and ready:
            return ready
        if not pending:
            raise QaInputError(f"backend {api.api_url} has no playable title")
        if time.monotonic() > deadline:
            raise QaInputError(
                f"backend {api.api_url}: {len(pending)} titles still not READY after "
                f"{timeout_s:.0f} s"
            )
        await asyncio.sleep(0.5)


async def alive(api: BackendApi) -> bool:
    try:
        await api.fetch(f"{api.api_url}{paths.HEALTHZ}")
    except ApiError:
        return False
    return True
