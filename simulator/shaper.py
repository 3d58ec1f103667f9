"""A trace-shaped TCP link on loopback: an asyncio proxy whose downstream follows a trace.

The emulator's and the QA harness's network: a client connects to the shaper, which connects
to the upstream (the CDN edge) and relays bytes. Upstream-to-client bytes pass a token
bucket whose rate follows the trace's bandwidth over time (looping, per connection, from the
moment the connection opens), with a small burst so small segments are not held back. The
first bytes of each response wait the trace's latency, as the simulator charges it once per
request. Requests (client to upstream) pass unshaped: they are a few hundred bytes.
"""

from __future__ import annotations

import asyncio
import time
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass

from traces.trace import Trace

CHUNK_BYTES = 16 * 1024
BURST_S = 0.005  # bucket depth in seconds of the current rate


@dataclass
class ShapedStats:
    """What one connection was sent, for reporting the shaper's own accuracy."""

    bytes_sent: int = 0
    seconds: float = 0.0
    requested_kbps: float = 0.0  # the trace's mean rate over the same time

    @property
    def achieved_kbps(self) -> float:
        return self.bytes_sent * 8 / self.seconds / 1000 if self.seconds > 0 else 0.0


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


class TraceShaper:
    def __init__(
        self,
        trace: Trace,
        upstream_host: str,
        upstream_port: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.schedule = _Schedule(trace)
        self.upstream = (upstream_host, upstream_port)
        self.clock = clock
        self.stats: list[ShapedStats] = []
        self._server: asyncio.Server | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        self._server = await asyncio.start_server(self._handle, host, port)
        return int(self._server.sockets[0].getsockname()[1])

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            upstream_r, upstream_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        stats = ShapedStats()
        self.stats.append(stats)
        opened = self.clock()
        requested = asyncio.Event()  # set when a request went up: its answer pays the latency
        up = asyncio.create_task(_pump(client_r, upstream_w, requested))
        try:
            await self._shaped_pump(upstream_r, client_w, opened, stats, requested)
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
        first_sent: float | None = None
        while True:
            chunk = await reader.read(CHUNK_BYTES)
            if not chunk:
                return
            if requested.is_set():
                requested.clear()
                _, latency, _ = self.schedule.at(self.clock() - opened)
                if latency > 0:
                    await asyncio.sleep(latency)
            for start in range(0, len(chunk), 1500):
                piece = chunk[start : start + 1500]
                need = len(piece) * 8
                while True:
                    now = self.clock()
                    rate, _, left = self.schedule.at(now - opened)
                    # Depth: the burst, or two packets at low rates, so the credit a late
                    # wake-up earns is kept rather than lost (timers overshoot by ~1 ms).
                    tokens = min(tokens + rate * (now - last), max(rate * BURST_S, 2 * need))
                    last = now
                    if tokens >= need:
                        break
                    wait = (need - tokens) / rate if rate > 0 else left
                    await asyncio.sleep(min(wait, left) if left > 0 else wait)
                tokens -= need
                writer.write(piece)
                if first_sent is None:
                    first_sent = self.clock()
                stats.bytes_sent += len(piece)
            await writer.drain()
            if first_sent is not None:
                stats.seconds = self.clock() - first_sent
                stats.requested_kbps = self._mean_kbps(first_sent - opened, self.clock() - opened)

    def _mean_kbps(self, start: float, end: float) -> float:
        """Time-weighted mean trace rate between two connection times."""
        if end <= start:
            return self.schedule.at(start)[0] / 1000.0
        total, t = 0.0, start
        while t < end:
            rate, _, left = self.schedule.at(t)
            step = min(left, end - t) or 1e-9
            total += rate * step
            t += step
        return total / (end - start) / 1000.0


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, requested: asyncio.Event
) -> None:
    while True:
        data = await reader.read(CHUNK_BYTES)
        if not data:
            return
        writer.write(data)
        await writer.drain()
        requested.set()
