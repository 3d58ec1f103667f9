"""A trace-shaped TCP link on loopback: an asyncio proxy whose downstream follows a trace.

The emulator's and the QA harness's network: a client connects to the shaper, which connects
to the upstream (the CDN edge) and relays bytes. Upstream-to-client bytes pass a token
bucket whose rate follows the trace's bandwidth over time (looping), with a small burst so
small segments are not held back. The trace runs from the moment each connection opens, or,
with `per_connection=False`, from the first connection on: one access link whose trace goes
on when a client opens a new connection (after an abandoned download), as the simulator's
link does. The
first bytes of each response wait the trace's latency, as the simulator charges it once per
request. Requests (client to upstream) pass unshaped: they are a few hundred bytes.
"""

from __future__ import annotations

import asyncio
import threading
import time
from bisect import bisect_right
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from emulator.proxy_server import ProxyServer
from traces.trace import Trace

CHUNK_BYTES = 16 * 1024
BURST_S = 0.005  # bucket depth in seconds of the current rate
CONNECT_TIMEOUT_S = 10.0  # an upstream that accepts nothing (a full backlog)


@dataclass
class ShapedStats:
    """What one connection was sent, for reporting the shaper's own accuracy.

    Only the link time of the bytes sent counts (from when the credit they used began to
    accrue to when they were written): idle gaps on a kept-alive connection and waits for a
    slow upstream say nothing about the bucket's accuracy."""

    bytes_sent: int = 0
    seconds: float = 0.0  # busy time
    requested_bits: float = 0.0  # what the trace allowed over the busy time

    @property
    def achieved_kbps(self) -> float:
        return self.bytes_sent * 8 / self.seconds / 1000 if self.seconds > 0 else 0.0

    @property
    def requested_kbps(self) -> float:
        return self.requested_bits / self.seconds / 1000 if self.seconds > 0 else 0.0


class _Schedule:
    """Bandwidth and latency of the trace at a time since the connection opened (looping)."""

    def __init__(self, trace: Trace) -> None:
        self.starts = [0.0]
        for d in trace.durations_s[:-1]:
            self.starts.append(self.starts[-1] + float(d))
        self.period = trace.total_duration_s
        self.kbps = [float(b) for b in trace.bandwidth_kbps]
        self.latency = [float(x) for x in trace.latency_s]

    def at(self, t: float) -> tuple[float, float, float]:
        """(bit/s, latency s, seconds until the piece ends)."""
        offset = t % self.period
        i = bisect_right(self.starts, offset) - 1
        end = self.starts[i + 1] if i + 1 < len(self.starts) else self.period
        return self.kbps[i] * 1000.0, self.latency[i], end - offset


class TraceShaper(ProxyServer):
    def __init__(
        self,
        trace: Trace,
        upstream_host: str,
        upstream_port: int,
        clock: Callable[[], float] = time.monotonic,
        per_connection: bool = True,
    ) -> None:
        super().__init__()
        self.schedule = _Schedule(trace)
        self.upstream = (upstream_host, upstream_port)
        self.clock = clock
        self.per_connection = per_connection
        self.link_opened: float | None = None  # the first connection's time
        self.stats: list[ShapedStats] = []

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream), CONNECT_TIMEOUT_S
            )
        except (OSError, TimeoutError, asyncio.CancelledError):
            # Refused, unanswered, or `close()` while waiting: the client sees its connection
            # end (CancelledError is swallowed for the reason given below).
            client_w.close()
            return
        stats = ShapedStats()
        self.stats.append(stats)
        opened = self.clock()
        if self.link_opened is None:
            self.link_opened = opened
        if not self.per_connection:
            opened = self.link_opened
        requested = asyncio.Event()  # set when a request went up: its answer pays the latency
        up = asyncio.create_task(_pump(client_r, upstream_w, requested))
        try:
            await self._shaped_pump(upstream_r, client_w, opened, stats, requested)
        except OSError:
            pass  # either side reset the connection: the client sees it as such
        except asyncio.CancelledError:
            # `close()` cancels open connections. Ending normally, because asyncio's server
            # callback calls exception() on the finished task, which raises on a cancelled one.
            pass
        finally:
            up.cancel()
            for writer in (client_w, upstream_w):
                writer.close()

    async def _shaped_pump(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        opened: float,
        stats: ShapedStats,
        requested: asyncio.Event,
    ) -> None:
        tokens = 0.0  # bits the bucket holds
        last = opened
        sent_until = opened  # when the previous chunk's last byte was written
        while True:
            chunk = await reader.read(CHUNK_BYTES)
            if not chunk:
                return
            if requested.is_set():
                requested.clear()
                _, latency, _ = self.schedule.at(self.clock() - opened)
                if latency > 0:
                    await asyncio.sleep(latency)
            # The chunk's link time starts when the credit it uses from the bucket began to
            # accrue: waits for upstream data and idle gaps are not the shaper's to account.
            now = self.clock()
            rate, _, _ = self.schedule.at(now - opened)
            # Credit from idle time up to the depth (the burst, or two packets at low rates);
            # credit a late wake-up left over is owed to the data and kept.
            depth = max(rate * BURST_S, 2 * 1500 * 8)
            tokens = max(
                tokens, min(tokens + self._capacity_bits(last - opened, now - opened), depth)
            )
            last = now
            credit = min(tokens, len(chunk) * 8)  # what this chunk will use of it
            busy_from = max(now - credit / rate, sent_until) if rate > 0 else now
            for start in range(0, len(chunk), 1500):
                piece = chunk[start : start + 1500]
                need = len(piece) * 8
                while True:
                    now = self.clock()
                    rate, _, left = self.schedule.at(now - opened)
                    # No depth limit while data waits: a late wake-up (a loaded event loop
                    # overshoots its timers by milliseconds) sends what the link would have
                    # sent meanwhile, so the mean rate holds. The burst limit applies to
                    # credit from idle time, at the start of a chunk. The credit is what the
                    # trace allowed since the last look, at each piece's own rate: after an
                    # outage the wake-up is at the next piece, whose rate never ran that long.
                    tokens += self._capacity_bits(last - opened, now - opened)
                    last = now
                    if tokens >= need:
                        break
                    wait = (need - tokens) / rate if rate > 0 else left
                    await asyncio.sleep(min(wait, left) if left > 0 else wait)
                tokens -= need
                if writer.is_closing():
                    return  # the client went away (an abandoned download): stop sending
                writer.write(piece)
                stats.bytes_sent += len(piece)
            await writer.drain()
            sent_until = self.clock()
            stats.seconds += sent_until - busy_from
            stats.requested_bits += self._capacity_bits(busy_from - opened, sent_until - opened)

    def _capacity_bits(self, start: float, end: float) -> float:
        """Bits the trace allows between two link times."""
        total, t = 0.0, start
        while t < end:
            rate, _, left = self.schedule.at(t)
            step = min(left, end - t) or 1e-9
            total += rate * step
            t += step
        return total


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, requested: asyncio.Event
) -> None:
    try:
        while True:
            data = await reader.read(CHUNK_BYTES)
            if not data:
                return
            writer.write(data)
            await writer.drain()
            requested.set()
    except OSError:
        return  # a reset: the shaped direction sees the end of the connection too


@contextmanager
def shaped_link_in_thread(trace: Trace, upstream_host: str, upstream_port: int) -> Iterator[int]:
    """One trace-shaped access link on 127.0.0.1, on its own event loop thread, for callers
    that run no asyncio loop of their own (the Qt player); yields its port."""
    shaper = TraceShaper(trace, upstream_host, upstream_port, per_connection=False)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="shaped-link", daemon=True)
    thread.start()
    try:
        yield asyncio.run_coroutine_threadsafe(shaper.start(), loop).result(timeout=10.0)
    finally:
        try:
            asyncio.run_coroutine_threadsafe(shaper.close(), loop).result(timeout=10.0)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=10.0)
            loop.close()
