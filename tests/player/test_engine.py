"""The playback engine over real HTTP on 127.0.0.1: ffmpeg-made ladders, faults injected."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from abr.config import SessionConfig
from abr.registry import create
from player.engine import CountingSink, PlaybackEngine, PlaybackResult

Server = tuple[str, Any]  # base URL, and the handler class whose `faults` a test may set


def play(
    url: str, abr: str = "throughput", **config: object
) -> tuple[PlaybackResult, CountingSink]:
    async def go() -> tuple[PlaybackResult, CountingSink]:
        sink = CountingSink()
        async with httpx.AsyncClient(timeout=5.0) as client:
            settings = SessionConfig(retry_backoff_s=0.05, **config)  # type: ignore[arg-type]
            engine = PlaybackEngine(url, create(abr), sink, client, settings)
            return await engine.run(stop_after_s=60.0), sink

    return asyncio.run(go())


@pytest.mark.parametrize("manifest", ["dash/manifest.mpd", "hls-ts/master.m3u8"])
def test_plays_a_whole_title_in_order(server: Server, manifest: str) -> None:
    base, _ = server
    result, sink = play(f"{base}/{manifest}")
    assert result.failure is None
    assert [i for i, _, _ in sink.segments] == list(range(result.presentation.segment_count))
    assert sink.segments[0][1] == 0  # the first segment comes from the lowest rung
    assert all(size > 0 for _, _, size in sink.segments)
    assert result.summary.startup_s < 2.0
    assert result.metrics.ended_at is not None
    if manifest.startswith("dash"):
        assert set(sink.inits) == {q for _, q, _ in sink.segments}  # one init per rung used


def test_a_failing_segment_is_retried(server: Server) -> None:
    base, handler = server
    handler.faults["chunk-0-00002.m4s"] = [503, 503]
    handler.faults["chunk-1-00002.m4s"] = [503, 503]
    handler.faults["chunk-2-00002.m4s"] = [503, 503]
    result, sink = play(f"{base}/dash/manifest.mpd")
    assert result.failure is None
    assert [i for i, _, _ in sink.segments] == [0, 1, 2, 3]
    assert result.metrics.ended_at is not None


def test_a_missing_segment_fails_the_session_with_its_url(
    server: Server,
) -> None:
    base, handler = server
    for rung in range(3):
        handler.faults[f"chunk-{rung}-00003.m4s"] = [404] * 10
    result, _ = play(f"{base}/dash/manifest.mpd")
    assert result.failure is not None
    assert (
        "segment 2" in result.failure
        and "HTTP 404" in result.failure
        and "00003.m4s" in result.failure
    )
