"""Live channels (`make bench`): a real `streamlab serve --live-channel` (ffmpeg encoding the
clock pattern, origin, shield and edge) on 127.0.0.1, measured from outside.

- Join to first frame: the Qt player offscreen (libmpv decoding) pressing Play on the
  channel, timed to the first decoded frame, through the edge on loopback and through the
  emulator's 5 Mbit/s shaped link (`bench.player`'s, used as the player's HTTP proxy).
- Steady-state latency: one session played for a while; `Session.live_latency_s` (UTC now
  minus when the media at the playhead was live) sampled every 0.25 s once it settled,
  against the target of 3 segments (goal: p95 within target + 1 s).
- Origin fetches per playlist refresh: 50 players polling the MPD through one edge at the
  player's reload cadence (`minimumUpdatePeriod`, one segment), each from its own random
  phase; cheap asyncio HTTP pollers, not 50 libmpv instances. A refresh is an MPD version
  (publishTime) the pollers received; the origin's counter says how often the tiers fetched
  the MPD (goal: 1 per refresh).
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from backend_stub.auth import create_user
from backend_stub.db import session_factory
from bench.backend import Running, _start
from bench.player import (
    SHAPED_KBPS,
    SHAPED_LATENCY_S,
    _percentile,
    _ShapedLink,
    open_player,
    wait_until,
)

JOINS = int(os.environ.get("STREAMLAB_BENCH_LIVE_JOINS", "50"))
SEG = 2
CHANNEL = "bench"
VIDEO_ID = f"live-{CHANNEL}"
TARGET_S = 3 * SEG  # the session's default target latency: three segments
SETTLE_S = 10.0
STEADY_S = 30.0
POLLERS = 50
POLL_S = 30.0


def _ready(running: Running) -> None:
    def listed() -> bool:
        videos = httpx.get(f"{running.api}/api/v1/videos").json()["videos"]
        return any(v["video_id"] == VIDEO_ID and v["status"] == "READY" for v in videos)

    wait_until(listed, 60, "the channel to be READY", lambda: time.sleep(0.3))


def _joins(running: Running, state: Path, proxy: str | None) -> list[float]:
    from player.ui.controller import PlaybackRequest

    window, tick = open_player(running.api, state, False, proxy)
    results: list[float] = []
    window.controller.first_frame.connect(lambda ttff: results.append(ttff.first_frame_s))
    try:
        for n in range(JOINS):
            window._play(PlaybackRequest(video_id=VIDEO_ID))
            wait_until(lambda n=n: len(results) > n, 30, "the first frame", tick)
            window.playback.stop()
    finally:
        window.shutdown()
        window.close()
    print(f"bench.live: joins (s): {', '.join(f'{r:.3f}' for r in results)}", file=sys.stderr)
    return results


def _steady_latency(running: Running, state: Path) -> list[float]:
    from player.ui.controller import PlaybackRequest

    window, tick = open_player(running.api, state, False)
    controller = window.controller
    started: list[float] = []
    controller.first_frame.connect(lambda _ttff: started.append(time.monotonic()))
    samples: list[float] = []
    try:
        window._play(PlaybackRequest(video_id=VIDEO_ID))
        wait_until(lambda: started, 30, "the first frame", tick)
        settle_until = started[0] + SETTLE_S
        wait_until(lambda: time.monotonic() > settle_until, SETTLE_S + 5, "settling", tick)
        end = time.monotonic() + STEADY_S
        next_sample = time.monotonic()
        while time.monotonic() < end:
            tick()
            if time.monotonic() >= next_sample and controller.engine is not None:
                value = controller.engine.session.live_latency_s
                if value is not None:
                    samples.append(value)
                next_sample += 0.25
            time.sleep(0.01)
        if window.playback.failed_kind is not None:
            raise RuntimeError(f"bench.live: playback failed: {window.playback.failed_kind}")
        window.playback.stop()
    finally:
        window.shutdown()
        window.close()
    return samples


async def _poll(url: str, stop_at: float, seen: set[str], seed: int) -> int:
    """One player's MPD reloads: every segment, from a random phase. Returns its requests."""
    requests = 0
    async with httpx.AsyncClient(timeout=10) as client:
        await asyncio.sleep(random.Random(seed).uniform(0, SEG))
        while time.monotonic() < stop_at:
            began = time.monotonic()
            body = (await client.get(url)).text
            seen.add(ET.fromstring(body).get("publishTime", ""))
            requests += 1
            await asyncio.sleep(max(0.0, SEG - (time.monotonic() - began)))
    return requests


def _pollers(running: Running, mpd_url: str) -> tuple[int, int, int]:
    """(origin fetches of the MPD, MPD versions the pollers received, requests they made)."""
    key = f"media/{VIDEO_ID}/manifest.mpd"
    before = running.fetches().get(key, 0)
    seen: set[str] = set()

    async def all_pollers() -> list[int]:
        stop_at = time.monotonic() + POLL_S
        return await asyncio.gather(*(_poll(mpd_url, stop_at, seen, k) for k in range(POLLERS)))

    requests = sum(asyncio.run(all_pollers()))
    # Nothing fetched the MPD before the pollers (the manifest endpoint does not), so every
    # version they received, the first included, had to come from the origin once.
    return running.fetches().get(key, 0) - before, len(seen), requests


def run(out_dir: Path) -> str:
    del out_dir
    lines = ["## Live (`bench/live.py`)\n"]
    with tempfile.TemporaryDirectory(prefix="streamlab-live-") as tmp_name:
        tmp = Path(tmp_name)
        running = _start(
            tmp / "data",
            "--live-channel", CHANNEL,
            "--live-segment-seconds", str(SEG),
            "--live-dvr-seconds", "60",
        )  # fmt: skip
        try:
            sessions = session_factory(running.config.database_url)
            create_user(sessions, "bench", "bench-pw")
            sessions.kw["bind"].dispose()
            _ready(running)
            token = httpx.post(
                f"{running.api}/api/v1/auth/token",
                json={"username": "bench", "password": "bench-pw"},
            ).json()["access_token"]
            mpd_url = httpx.get(
                f"{running.api}/api/v1/videos/{VIDEO_ID}/manifest",
                headers={"Authorization": f"Bearer {token}"},
            ).json()["dash_manifest_url"]
            fetches, refreshes, requests = _pollers(running, mpd_url)
            loopback = _joins(running, tmp / "loopback", None)
            link = _ShapedLink(running.edge, SHAPED_KBPS, SHAPED_LATENCY_S)
            try:
                shaped = _joins(running, tmp / "shaped", link.url)
            finally:
                link.close()
            latency = _steady_latency(running, tmp / "steady")
        finally:
            running.proc.terminate()
            running.proc.wait(30)
    p95 = _percentile(latency, 0.95)
    lines += [
        f"One channel (clock pattern, 240p-480p + AAC, {SEG} s segments) from a real `serve`; "
        "the player offscreen with libmpv decoding, through the edge.\n",
        "| measure | p50 | p99 / p95 | goal |",
        "|---|---|---|---|",
        f"| join to first frame, loopback ({JOINS} joins) | {_percentile(loopback, 0.5):.2f} s "
        f"| p99 {_percentile(loopback, 0.99):.2f} s | |",
        f"| join to first frame, {SHAPED_KBPS / 1000:.0f} Mbit/s and "
        f"{SHAPED_LATENCY_S * 1000:.0f} ms per request ({JOINS} joins) "
        f"| {_percentile(shaped, 0.5):.2f} s | p99 {_percentile(shaped, 0.99):.2f} s | |",
        f"| steady-state latency ({len(latency)} samples over {STEADY_S:.0f} s, after "
        f"{SETTLE_S:.0f} s) | {_percentile(latency, 0.5):.2f} s | p95 {p95:.2f} s "
        f"| p95 <= {TARGET_S + 1} s (target {TARGET_S} s + 1 s): "
        f"{'met' if p95 <= TARGET_S + 1 else 'not met'} |",
        f"| origin fetches per MPD refresh, {POLLERS} players polling one edge every {SEG} s "
        f"for {POLL_S:.0f} s ({requests} requests, {refreshes} refreshes) "
        f"| {fetches / max(1, refreshes):.2f} ({fetches} fetches) | | 1: "
        f"{'met' if fetches <= refreshes else 'not met'} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run(Path("bench")))
