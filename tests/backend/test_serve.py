"""`streamlab serve` as a user runs it: start-up line, serve.json, demo catalog, clean stop."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from backend.helpers import REPO, Stack, start_serve, stop_serve, wait_for


def _pid_alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_serve_demo_catalog_then_sigterm_stops_everything(tmp_path: Path) -> None:
    proc, info = start_serve(
        tmp_path, "--demo-catalog", "--demo-seconds", "4", "--workers", "1", "--preset", "ultrafast"
    )
    try:
        assert set(info) == {"api", "edge", "shield", "origin"}
        assert json.loads((tmp_path / "serve.json").read_text()) == info
        nginx_pids = [
            int((tmp_path / tier / "nginx.pid").read_text()) for tier in ("edge", "shield")
        ]
        assert httpx.get(f"{info['edge']}/healthz").status_code == 200
        token = httpx.post(
            f"{info['api']}/api/v1/auth/token", json={"username": "demo", "password": "demo"}
        )
        assert token.status_code == 200

        def all_ready() -> bool:
            videos = httpx.get(f"{info['api']}/api/v1/videos").json()["videos"]
            return len(videos) == 4 and all(v["status"] == "READY" for v in videos)

        wait_for(all_ready, 90, "the demo titles and channel to become READY")
        videos = httpx.get(f"{info['api']}/api/v1/videos").json()["videos"]
        assert [v["title"] for v in videos if v["live"]] == ["clock"]
        found = httpx.get(f"{info['api']}/api/v1/videos", params={"q": "life"}).json()["videos"]
        assert [v["title"] for v in found] == ["Game of Life"]
        assert found[0]["poster_url"].startswith(info["edge"])
        assert httpx.get(found[0]["poster_url"]).headers["content-type"] == "image/jpeg"
    finally:
        code = stop_serve(proc)
    assert code == 0
    assert not (tmp_path / "serve.json").exists()
    assert not any(_pid_alive(p) for p in nginx_pids)
    for url in info.values():
        try:
            httpx.get(url + "/healthz", timeout=1)
            raise AssertionError(f"{url} still answers after shutdown")
        except httpx.ConnectError:
            pass


def test_bad_options_exit_2_naming_the_option(tmp_path: Path) -> None:
    import socket

    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_port = busy.getsockname()[1]
    for args, needle in (
        (
            ["--edge-port", str(busy_port)],
            f"--edge-port {busy_port}: port 127.0.0.1:{busy_port} is not free",
        ),
        (["--segment-seconds", "9"], "--segment-seconds must be 2..6"),
        (["--device-cap", "mobile"], "--device-cap 'mobile'"),
        (["--workers", "0"], "--workers must be at least 1"),
    ):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "streamlab.commands.serve",
                "--data-dir",
                str(tmp_path),
                "--api-port",
                "0",
                "--edge-port",
                "0",
                "--shield-port",
                "0",
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=30,
        )
        assert proc.returncode == 2, proc.stderr
        assert needle in proc.stderr
    busy.close()


def test_serve_restarts_a_worker_that_dies(stack: Stack) -> None:
    import os
    import signal

    def workers() -> set[int]:
        found = set()
        for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
            try:
                text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
            if "backend_stub.worker" in text and str(stack.data_dir) in text:
                found.add(int(cmdline.parent.name))
        return {p for p in found if _pid_alive(p)}

    before = workers()
    assert len(before) == 2
    victim = min(before)
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: len(workers() - {victim}) == 2, 10, "serve to start a replacement worker")
