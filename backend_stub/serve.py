"""`streamlab serve`: origin (uvicorn) + worker pool + shield nginx + edge nginx + live
channel encoders, supervised.

Every part is a child process with files under the data dir. Ready means: the origin answers
/healthz and both nginx tiers answer theirs; then one JSON line goes to stdout and to
DATA_DIR/serve.json (live channels are still STARTING then: the catalog says when each is
READY). SIGINT/SIGTERM stop the parts edge-first (no new clients), then the live encoders
(their files are removed), then workers (they hand their job back), then the origin;
serve.json is removed.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

import api_paths
from backend_stub.config import BackendConfig, load_or_create_secrets
from backend_stub.db import session_factory
from backend_stub.edge.nginx import NginxProcess
from backend_stub.edge.nginx_conf import TierPaths, edge_conf, shield_conf
from backend_stub.errors import BackendError
from backend_stub.live.catalog import mark_offline, mark_ready, register_channels, set_poster
from backend_stub.live.channel import ChannelSettings, LiveChannel
from backend_stub.live.encoder import ChannelSpec
from backend_stub.store import open_store

HOST = "127.0.0.1"


@dataclass
class ServeOptions:
    data_dir: Path
    api_port: int = 8080
    edge_port: int = 8081
    shield_port: int = 8082
    workers: int = 2
    demo_catalog: bool = False
    demo_seconds: int = 30
    database_url: str = ""
    live_channels: list[ChannelSpec] = field(default_factory=list)
    config_overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ServeInfo:
    api: str
    edge: str
    shield: str
    origin: str

    def to_json(self) -> str:
        return json.dumps(
            {"api": self.api, "edge": self.edge, "shield": self.shield, "origin": self.origin}
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def _port(value: int, option: str) -> int:
    """0 → a free port; an explicit port must be free now, or start-up fails up front with
    the option's name instead of a child dying with 'address in use' in its log."""
    if not value:
        return free_port()
    with socket.socket() as sock:
        try:
            sock.bind((HOST, value))
        except OSError as exc:
            raise BackendError(
                f"{option} {value}: port {HOST}:{value} is not free ({exc.strerror})"
            ) from exc
    return value


def wait_http(url: str, timeout: float, alive: Callable[[], bool]) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        if not alive():
            raise BackendError(f"process serving {url} exited during start-up")
        try:
            if httpx.get(url, timeout=1.0).status_code == 200:
                return
        except httpx.HTTPError as exc:
            last = str(exc)
        time.sleep(0.1)
    raise BackendError(f"{url} did not come up within {timeout:.0f} s ({last})")


def _python_child(args: list[str], log: Path) -> subprocess.Popen[bytes]:
    fh = log.open("ab")
    try:
        # Own process group: a Ctrl-C in the terminal reaches serve, which then stops the
        # children in order, instead of every child racing to exit at once.
        return subprocess.Popen(
            [sys.executable, *args],
            stdin=subprocess.DEVNULL,
            stdout=fh,
            stderr=fh,
            start_new_session=True,
        )
    finally:
        fh.close()


class Stack:
    def __init__(self, opts: ServeOptions) -> None:
        self.opts = opts
        data = Path(opts.data_dir).resolve()
        data.mkdir(parents=True, exist_ok=True)
        self.data_dir = data
        self.api_port = _port(opts.api_port, "--api-port")
        self.edge_port = _port(opts.edge_port, "--edge-port")
        self.shield_port = _port(opts.shield_port, "--shield-port")
        jwt_secret, url_secret = load_or_create_secrets(data)
        self.config = BackendConfig(
            data_dir=data,
            database_url=opts.database_url,
            jwt_secret=jwt_secret,
            url_signing_secret=url_secret,
            edge_url=f"http://{HOST}:{self.edge_port}",
            live_channels={c.name: str(c.source or "") for c in opts.live_channels},
            **opts.config_overrides,
        )
        self.logs = data / "logs"
        self.origin: subprocess.Popen[bytes] | None = None
        self.workers: dict[str, subprocess.Popen[bytes]] = {}
        self.shield = NginxProcess(
            "shield",
            TierPaths(data / "shield"),
            shield_conf(TierPaths(data / "shield"), self.shield_port, self.api_port),
        )
        self.edge = NginxProcess(
            "edge",
            TierPaths(data / "edge"),
            edge_conf(TierPaths(data / "edge"), self.edge_port, self.shield_port, self.api_port),
        )
        self._worker_seq = 0
        self.channels: list[LiveChannel] = []
        self.ready_channels: set[str] = set()
        self.channel_posters: dict[str, str] = {}  # by video id: the still the catalog names
        self.channel_db: sessionmaker[Session] | None = None  # catalog rows of the channels

    @property
    def info(self) -> ServeInfo:
        origin = f"http://{HOST}:{self.api_port}"
        return ServeInfo(
            api=origin,
            edge=f"http://{HOST}:{self.edge_port}",
            shield=f"http://{HOST}:{self.shield_port}",
            origin=origin,
        )

    def start(self) -> ServeInfo:
        self.logs.mkdir(exist_ok=True)
        config_path = self.config.save()
        sessions = session_factory(self.config.database_url)  # schema check before anything runs
        store = open_store(self.config.store_url)  # a bad bucket/credentials/endpoint stops us here
        if self.opts.live_channels and store.local_path("media/x") is None:
            raise BackendError(
                "--live-channel needs a filesystem store (--store-url file://DIR or the "
                f"default), not {self.config.store_url}: the encoders publish a segment "
                "every few seconds into a local directory the origin serves from"
            )
        if self.opts.demo_catalog:
            from backend_stub.seed import seed_demo

            seed_demo(self.config, sessions, self.opts.demo_seconds)
        sessions.kw["bind"].dispose()
        self.origin = _python_child(
            [
                "-m",
                "backend_stub.api.app",
                "--config",
                str(config_path),
                "--port",
                str(self.api_port),
            ],
            self.logs / "origin.log",
        )
        wait_http(
            f"{self.info.origin}/healthz",
            30,
            lambda: self.origin is not None and self.origin.poll() is None,
        )
        self.shield.start()
        wait_http(f"{self.info.shield}/healthz", 10, self.shield.alive)
        self.edge.start()
        wait_http(f"{self.info.edge}/healthz", 10, self.edge.alive)
        for _ in range(self.opts.workers):
            self._spawn_worker()
        self._start_channels(store.local_path("media"))
        info = self.info
        (self.data_dir / "serve.json").write_text(info.to_json() + "\n")
        return info

    def _start_channels(self, media_root: Path | None) -> None:
        if not self.opts.live_channels or media_root is None:
            return
        self.channel_db = session_factory(self.config.database_url)
        keys = register_channels(
            self.channel_db,
            self.opts.live_channels,
            self.config.live_segment_seconds,
            self.config.live_dvr_seconds,
            self.config.drm_scheme if self.config.encrypt else None,
        )
        settings = ChannelSettings(
            self.config.live_segment_seconds,
            self.config.live_dvr_seconds,
            f"{self.info.edge}{api_paths.TIME}",
        )
        for spec in self.opts.live_channels:
            channel = LiveChannel(
                spec,
                media_root / spec.video_id,
                self.data_dir / "live" / spec.name,
                settings,
                keys.get(spec.video_id),
            )
            self.channels.append(channel)
            channel.start()

    def _poll_channels(self) -> None:
        for channel in self.channels:
            channel.poll()
            if channel.ready and channel.spec.video_id not in self.ready_channels:
                assert self.channel_db is not None
                mark_ready(self.channel_db, channel.spec.video_id, channel.rungs)
                self.ready_channels.add(channel.spec.video_id)
            poster = channel.poster
            if poster is not None and self.channel_posters.get(channel.spec.video_id) != poster:
                assert self.channel_db is not None
                set_poster(self.channel_db, channel.spec.video_id, poster)
                self.channel_posters[channel.spec.video_id] = poster

    def _spawn_worker(self) -> None:
        self._worker_seq += 1
        wid = f"w{self._worker_seq}-{os.getpid()}"
        self.workers[wid] = _python_child(
            [
                "-m",
                "backend_stub.worker",
                "--config",
                str(self.data_dir / "backend.json"),
                "--id",
                wid,
            ],
            self.logs / "worker.log",
        )

    def supervise(self) -> str | None:
        """Restart dead workers and encoders, publish what the encoders finished; return why
        the stack must stop if a core part died."""
        self._poll_channels()
        for wid, proc in list(self.workers.items()):
            if proc.poll() is not None:
                del self.workers[wid]
                self._spawn_worker()
        if self.origin is not None and self.origin.poll() is not None:
            return (
                f"origin exited with code {self.origin.returncode} (see {self.logs / 'origin.log'})"
            )
        for tier in (self.edge, self.shield):
            if not tier.alive():
                return f"{tier.name} nginx exited (see {tier.paths.error_log})"
        return None

    def stop(self) -> None:
        (self.data_dir / "serve.json").unlink(missing_ok=True)
        self.edge.stop()
        self.shield.stop()
        for channel in self.channels:
            channel.stop()
        if self.channel_db is not None:
            mark_offline(self.channel_db, [c.spec.video_id for c in self.channels])
            self.channel_db.kw["bind"].dispose()
            self.channel_db = None
        self.channels.clear()
        procs = [*self.workers.values(), *([self.origin] if self.origin else [])]
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 10
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.workers.clear()


def serve(opts: ServeOptions, on_ready: Callable[[ServeInfo], None]) -> int:
    """Run until SIGINT/SIGTERM; 0 on a clean stop, 1 when a part died."""
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    stack = Stack(opts)
    try:
        on_ready(stack.start())
        # Live encoders finish a segment every few seconds: a short tick publishes it soon.
        tick = 0.2 if opts.live_channels else 0.5
        while not stop.wait(tick):
            problem = stack.supervise()
            if problem:
                print(f"streamlab serve: {problem}; stopping", file=sys.stderr)
                return 1
        return 0
    finally:
        stack.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
