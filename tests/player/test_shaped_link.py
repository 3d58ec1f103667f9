"""The player engine over a trace-shaped loopback link adapts as the lab says it should."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

import httpx

from abr.config import SessionConfig
from abr.registry import create
from player.engine import CountingSink, PlaybackEngine, PlaybackResult
from simulator.shaper import TraceShaper
from traces import synthetic
from traces.trace import Trace


def play_through(trace: Trace, base: str, manifest: str) -> PlaybackResult:
    async def go() -> PlaybackResult:
        origin = urlsplit(base)
        shaper = TraceShaper(trace, origin.hostname or "127.0.0.1", origin.port or 80)
        port = await shaper.start()
        async with httpx.AsyncClient(timeout=10.0) as client:
            engine = PlaybackEngine(
                f"http://127.0.0.1:{port}/{manifest}",
                create("throughput"),
                CountingSink(),
                client,
                SessionConfig(buffer_target_segments=3),
            )
            result = await engine.run(stop_after_s=30.0)
        await shaper.close()
        return result

    return asyncio.run(go())


def test_a_slow_link_keeps_the_player_low_and_a_fast_one_lets_it_climb(
    server: tuple[str, Any],
) -> None:
    base, _ = server
    slow = play_through(synthetic.constant(700, latency_s=0.02), base, "dash/manifest.mpd")
    fast = play_through(synthetic.constant(20_000, latency_s=0.02), base, "dash/manifest.mpd")
    assert slow.failure is None and fast.failure is None
    assert max(q for _, q in slow.metrics.buffered) <= 1  # 300 or 600 kbit/s on a 700 kbit/s link
    assert max(q for _, q in fast.metrics.buffered) == 2
    assert slow.summary.bitrate_kbps < fast.summary.bitrate_kbps
    measured = [d.throughput_kbps for d in slow.metrics.downloads if d.bits > 200_000]
    assert measured and all(
        300 < kbps < 900 for kbps in measured
    )  # the session saw the shaped rate
