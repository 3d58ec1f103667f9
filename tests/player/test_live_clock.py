"""Clock sync for live presentations against a real HTTP server on 127.0.0.1 whose clock runs
100 s ahead of ours: each UTCTiming scheme, the fallback URL, and sources that do not answer."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from abr.presentation import UtcTiming
from player.live_clock import ClockError, ClockSync, parse_instant, sync_clock

AHEAD_S = 100.0
ISO = "urn:mpeg:dash:utc:http-iso:2014"
HEAD = "urn:mpeg:dash:utc:http-head:2014"
DIRECT = "urn:mpeg:dash:utc:direct:2014"


class _Clock(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        now = datetime.fromtimestamp(time.time() + AHEAD_S, UTC)
        body = {"/iso": now.isoformat().replace("+00:00", "Z"), "/garbage": "teatime"}.get(
            self.path, ""
        )
        self.send_response(200 if body else 404)
        self.end_headers()
        self.wfile.write(body.encode())

    def do_HEAD(self) -> None:
        self.send_response(200)  # its Date header comes from date_time_string
        self.end_headers()

    def date_time_string(self, timestamp: float | None = None) -> str:
        return formatdate(time.time() + AHEAD_S, usegmt=True)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def clock_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Clock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def sync(timings: list[UtcTiming], fallback: str | None = None) -> ClockSync:
    async def go() -> ClockSync:
        async with httpx.AsyncClient(timeout=2.0) as client:
            return await sync_clock(client, timings, fallback)

    return asyncio.run(go())


def server_ahead_by(result: ClockSync) -> float:
    return result.offset_s + time.monotonic() - time.time()


def test_http_iso_reads_the_servers_clock(clock_server: str) -> None:
    result = sync([UtcTiming(ISO, f"{clock_server}/iso")])
    assert result.source == f"{clock_server}/iso"
    assert server_ahead_by(result) == pytest.approx(AHEAD_S, abs=0.1)


def test_a_source_that_fails_falls_through_to_the_next(clock_server: str) -> None:
    result = sync(
        [
            UtcTiming(ISO, f"{clock_server}/garbage {clock_server}/missing"),
            UtcTiming(HEAD, f"{clock_server}/head"),
        ]
    )
    assert result.source == f"{clock_server}/head"
    assert server_ahead_by(result) == pytest.approx(AHEAD_S, abs=1.1)  # whole seconds


def test_direct_and_unknown_schemes(clock_server: str) -> None:
    stamp = datetime.fromtimestamp(time.time() + AHEAD_S, UTC).isoformat()
    result = sync(
        [UtcTiming("urn:mpeg:dash:utc:ntp:2014", "pool.example"), UtcTiming(DIRECT, stamp)]
    )
    assert result.source == "direct"
    assert server_ahead_by(result) == pytest.approx(AHEAD_S, abs=0.1)


def test_without_utctiming_the_fallback_url_then_the_system_clock(clock_server: str) -> None:
    assert server_ahead_by(sync([], f"{clock_server}/iso")) == pytest.approx(AHEAD_S, abs=0.1)
    nothing = sync([UtcTiming(ISO, f"{clock_server}/missing")])
    assert nothing.source == "system clock"
    assert server_ahead_by(nothing) == pytest.approx(0.0, abs=0.01)


@given(
    st.datetimes(min_value=datetime(1971, 1, 1), timezones=st.just(UTC)),
    st.integers(-14 * 60, 14 * 60),
)
def test_any_zoned_instant_parses_to_its_epoch_seconds(when: datetime, minutes: int) -> None:
    shown = when.astimezone(timezone(timedelta(minutes=minutes)))
    assert parse_instant(shown.isoformat(), "t") == pytest.approx(when.timestamp(), abs=1e-6)
    assert parse_instant(when.isoformat().replace("+00:00", "Z"), "t") == pytest.approx(
        when.timestamp(), abs=1e-6
    )


@pytest.mark.parametrize("text", ["", "noon", "2026-12-04T10:00:00", "2026-13-01T00:00:00Z"])
def test_what_is_not_an_instant_is_refused_by_source(text: str) -> None:
    with pytest.raises(ClockError, match=r"^src: "):
        parse_instant(text, "src")
