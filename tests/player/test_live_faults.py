"""Bad live input over real HTTP on 127.0.0.1: a scripted channel (a live HLS playlist or a
dynamic DASH MPD, 0.5 s segments of opaque bytes) that stops updating, 404s its newest segment
for a moment, or runs on a clock minutes away from ours. The engine keeps playing where it can
and ends with the reason, never hangs.

The session's own handling of these (frozen playlists, the encoder gone for 30 s or for good,
reloads going backwards) is tested on a virtual clock in tests/abr/test_session_live_faults.py;
here the limits are scaled down by configuration (live_gone_after_s), not by the segment
duration."""

from __future__ import annotations

import asyncio
import logging
import math
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from abr.config import SessionConfig
from abr.registry import create
from player.engine import CountingSink, PlaybackEngine, PlaybackResult

SEGMENT_S = 0.5
WINDOW = 8
BODY = b"\0" * 4000  # opaque media: the counting sink decodes nothing
INIT = (8).to_bytes(4, "big") + b"free"  # an init with no track: nothing to retime


@dataclass
class Script:
    """The channel as the server tells it. Times are the server's clock (ours + skew_s)."""

    started: float  # the channel's availabilityStartTime
    dash: bool = False
    skew_s: float = 0.0
    frozen_after_s: float = math.inf  # HLS: the playlist stops growing this long after start
    late_s: float = 0.0  # a listed segment 404s until this long after it is complete
    # Each segment's first request 404s whenever it comes (a late segment, however busy the
    # machine running the test is).
    first_request_404: bool = False
    _refused: set[int] = field(default_factory=set)

    def server_now(self) -> float:
        return time.time() + self.skew_s

    def newest(self) -> int:
        elapsed = min(self.server_now() - self.started, self.frozen_after_s)
        return math.floor(elapsed / SEGMENT_S) - 1

    def exists(self, number: int) -> bool:
        done_at = self.started + (number + 1) * SEGMENT_S
        if self.first_request_404 and number not in self._refused:
            self._refused.add(number)
            return False
        return number <= self.newest() and self.server_now() >= done_at + self.late_s

    def playlist(self) -> str:
        newest = self.newest()
        first = max(newest - WINDOW + 1, 0)
        lines = [
            "#EXTM3U",
            "#EXT-X-VERSION:6",
            f"#EXT-X-TARGETDURATION:{math.ceil(SEGMENT_S)}",
            f"#EXT-X-MEDIA-SEQUENCE:{first}",
        ]
        for n in range(first, newest + 1):
            lines += [f"#EXTINF:{SEGMENT_S:.3f},", f"seg-{n}.ts"]
        return "\n".join(lines) + "\n"

    def mpd(self) -> str:
        def iso(t: float) -> str:
            return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")

        return f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"
  availabilityStartTime="{iso(self.started)}" publishTime="{iso(self.server_now())}"
  minimumUpdatePeriod="PT1S" timeShiftBufferDepth="PT4S" maxSegmentDuration="PT1S">
  <Period id="p0" start="PT0S"><AdaptationSet contentType="video" mimeType="video/mp4">
    <SegmentTemplate timescale="1000" duration="{int(SEGMENT_S * 1000)}" startNumber="0"
      media="seg-$Number$.m4s" initialization="init.mp4"/>
    <Representation id="v" bandwidth="300000" width="640" height="360"/>
  </AdaptationSet></Period>
</MPD>"""


class _Channel(BaseHTTPRequestHandler):
    script: Script

    def do_GET(self) -> None:
        script = self.script
        path = self.path.lstrip("/")
        if path == "master.m3u8":
            master = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=300000,RESOLUTION=640x360\nlive.m3u8\n"
            self._send(200, master.encode())
        elif path in ("live.m3u8", "live.mpd"):
            text = script.mpd() if script.dash else script.playlist()
            self._send(200, text.encode())
        elif path == "init.mp4":
            self._send(200, INIT)
        elif path.startswith("seg-") and script.exists(int(path[4:].split(".")[0])):
            self._send(200, BODY)
        else:
            self._send(404, b"not found")

    def _send(self, status: int, body: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        self.wfile.write(body)

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(self.script.server_now(), usegmt=True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def channel() -> Iterator[tuple[str, type[_Channel]]]:
    handler = type("Channel", (_Channel,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", handler
    server.shutdown()
    server.server_close()


Played = tuple[PlaybackResult, CountingSink, list[tuple[float, str]]]


def play(url: str, seconds: float, **config: object) -> Played:
    """What the engine made of `seconds` of the channel: its result, what reached the sink,
    and every failed request."""

    async def go() -> Played:
        sink = CountingSink()
        async with httpx.AsyncClient(timeout=5.0) as client:
            settings = SessionConfig(retry_backoff_s=0.05, **config)  # type: ignore[arg-type]
            engine = PlaybackEngine(url, create("throughput"), sink, client, settings)
            return await engine.run(stop_after_s=seconds), sink, engine.failures

    return asyncio.run(go())


def test_a_playlist_that_stops_updating_ends_with_the_reason(
    channel: tuple[str, type[_Channel]],
) -> None:
    base, handler = channel
    handler.script = Script(started=time.time() - 5, frozen_after_s=7.0)
    begun = time.monotonic()
    result, sink, _ = play(f"{base}/master.m3u8", 20.0, live_gone_after_s=3.0)
    took = time.monotonic() - begun
    assert result.failure is not None, "a frozen playlist must not play (or wait) for ever"
    assert result.failure.startswith("the live stream stopped: nothing new to play for 3 s")
    assert "the live playlist stopped updating (last change" in result.failure
    assert took < 12  # frozen at 2 s in, the buffer played out, then the 3 s limit
    assert sink.segments


def test_a_newest_segment_that_404s_for_a_moment_is_retried(
    channel: tuple[str, type[_Channel]],
) -> None:
    base, handler = channel
    handler.script = Script(started=time.time() - 5, first_request_404=True)
    # Every segment 404s on its first request, as one fetched the moment it is listed may.
    result, sink, failures = play(
        f"{base}/master.m3u8", 4.0, live_target_latency_s=0.5, max_retries=1
    )
    assert result.failure is None
    numbers = [n for n, _ in result.metrics.buffered]  # live: segment numbers
    assert numbers == list(range(numbers[0], numbers[0] + len(numbers)))  # in order, none lost
    assert len(numbers) >= 5 and len(sink.segments) == len(numbers)
    assert any("HTTP 404" in reason for _, reason in failures)  # they were late


def test_a_dynamic_mpd_whose_server_clock_is_minutes_behind_ours_plays_on_its_time(
    channel: tuple[str, type[_Channel]], caplog: pytest.LogCaptureFixture
) -> None:
    base, handler = channel
    # The server's clock is 5 minutes behind the system's, and the MPD has no UTCTiming: by our
    # clock every segment it lists would be 5 minutes in the future (404s until we gave up).
    handler.script = Script(started=time.time() - 300 - 10, dash=True, skew_s=-300.0)
    with caplog.at_level(logging.WARNING, logger="player.engine"):
        result, sink, _ = play(f"{base}/live.mpd", 4.0)
    assert result.failure is None
    assert len(sink.segments) >= 4
    warned = [r.getMessage() for r in caplog.records if "live clock" in r.getMessage()]
    assert warned and "300 s ahead of the manifest server's" in warned[0], warned
    latency = result.metrics.live_latency_mean_s
    assert latency is not None and latency < 5.0  # joined near the server's live edge
