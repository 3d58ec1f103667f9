"""The player engine over a trace-shaped loopback link adapts as the lab says it should."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from play_cli import play_cli

from abr.config import SessionConfig
from abr.registry import create
from emulator.shaper import TraceShaper
from player.engine import CountingSink, PlaybackEngine, PlaybackResult
from traces import synthetic
from traces.formats import sabre_json
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


@pytest.mark.parametrize("absolute", [False, True], ids=["relative", "absolute-media-urls"])
def test_play_trace_puts_the_shaped_link_between_player_and_server(
    server: tuple[str, Any], ladder: dict[str, Path], tmp_path: Path, absolute: bool
) -> None:
    base, _ = server
    trace_file = tmp_path / "slow.json"
    trace_file.write_text(sabre_json.dump(synthetic.constant(700, latency_s=0.05)))
    name = "manifest.mpd"
    if absolute:  # media named by absolute URL on the same host goes through the link too
        mpd = ladder["dash"].read_text()
        name = "absolute.mpd"
        opening = mpd.index(">", mpd.index("<MPD")) + 1
        mpd = f"{mpd[:opening]}<BaseURL>{base}/dash/</BaseURL>{mpd[opening:]}"
        (ladder["dash"].parent / name).write_text(mpd)
    url = f"{base}/dash/{name}"
    common = ("--headless", "--no-decode", "--json", "--abr", "throughput")
    shaped = play_cli(url, *common, "--trace", str(trace_file))
    direct = play_cli(url, *common)
    assert shaped.returncode == direct.returncode == 0, shaped.stderr + direct.stderr
    assert f"through a link shaped by {trace_file}" in shaped.stderr
    slow, fast = json.loads(shaped.stdout), json.loads(direct.stdout)
    assert slow["url"] == url and slow["error"] is None
    assert slow["played_s"] == pytest.approx(8.0, abs=0.1)
    assert max(slow["renditions_played"]) <= 1 < max(fast["renditions_played"])
    assert slow["startup_s"] > 0.05 > fast["startup_s"]  # the first segment at ~700 kbit/s


def test_play_trace_refuses_what_it_cannot_shape(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('[{"duration_ms": 1000, "bandwidth_kbps": -5, "latency_ms": 1}]')
    good = tmp_path / "good.json"
    good.write_text(sabre_json.dump(synthetic.constant(700)))
    broken = play_cli("http://127.0.0.1:9/x.mpd", "--headless", "--trace", str(bad))
    assert broken.returncode == 2 and f"{bad}:1: piece 0: negative bandwidth" in broken.stderr
    tls = play_cli("https://example.com/x.mpd", "--headless", "--trace", str(good))
    assert tls.returncode == 2 and "--trace needs an http:// URL" in tls.stderr
    api = play_cli("--api", "http://127.0.0.1:9", "--trace", str(good))
    assert api.returncode == 2 and "use --data-dir" in api.stderr
    for done in (broken, tls, api):
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
