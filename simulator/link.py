"""A network link that follows a trace: piecewise-constant bandwidth, per-request latency.

The trace loops when the session outlasts it. A request pays the latency of the trace piece
it starts in, then receives bits at the bandwidth of each piece it spans. Optional
multiplicative noise (seeded) scales each piece's bandwidth.

Everything is closed-form over the cumulative capacity curve, so a download of any size
costs one binary search, whatever the number of pieces it spans.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

import numpy as np

from simulator.errors import LinkError
from traces.trace import Trace


class TraceLink:
    __slots__ = ("_bps", "_capacity", "_cum", "_latency", "_period", "_starts", "name")

    def __init__(self, trace: Trace, noise: float = 0.0, seed: int = 0) -> None:
        durations = np.asarray(trace.durations_s, dtype=np.float64)
        bps = np.asarray(trace.bandwidth_kbps, dtype=np.float64) * 1000.0
        if noise > 0:
            rng = np.random.default_rng(seed)
            bps = bps * rng.uniform(1.0 - noise, 1.0 + noise, size=bps.shape)
        starts = np.concatenate(([0.0], np.cumsum(durations)))
        cum = np.concatenate(([0.0], np.cumsum(durations * bps)))
        self.name = trace.name
        self._period = float(starts[-1])
        self._capacity = float(cum[-1])
        if self._capacity <= 0:
            raise LinkError(f"trace {trace.name!r} has no bandwidth at all")
        # Plain lists: bisect and indexing on them beat numpy scalars on the hot path.
        self._starts: list[float] = starts.tolist()
        self._cum: list[float] = cum.tolist()
        self._bps: list[float] = bps.tolist()
        self._latency: list[float] = np.asarray(trace.latency_s, dtype=np.float64).tolist()

    def latency_at(self, t: float) -> float:
        offset = t % self._period
        i = bisect_right(self._starts, offset) - 1
        return self._latency[min(i, len(self._latency) - 1)]

    def capacity_at(self, t: float) -> float:
        """Bits the link could have delivered from time 0 to `t`."""
        loops, offset = divmod(t, self._period)
        i = min(bisect_right(self._starts, offset) - 1, len(self._bps) - 1)
        return loops * self._capacity + self._cum[i] + self._bps[i] * (offset - self._starts[i])

    def time_at_capacity(self, bits: float) -> float:
        """The earliest time by which `bits` bits have been delivered since time 0."""
        loops = math.floor(bits / self._capacity)
        rest = bits - loops * self._capacity
        if rest <= 0 and loops > 0:
            loops -= 1
            rest += self._capacity
        # The piece where the curve crosses `rest`: cum[i] < rest <= cum[i + 1], so its
        # bandwidth is positive (zero-bandwidth pieces have cum[i] == cum[i + 1]).
        i = min(bisect_left(self._cum, rest) - 1, len(self._bps) - 1)
        within = (rest - self._cum[i]) / self._bps[i]
        return loops * self._period + self._starts[i] + within

    def transfer_end(self, start: float, bits: float) -> float:
        """When a transfer of `bits` that starts receiving at `start` completes."""
        if bits <= 0:
            return start
        return max(self.time_at_capacity(self.capacity_at(start) + bits), start)

    def bits_between(self, start: float, end: float) -> float:
        if end <= start:
            return 0.0
        return self.capacity_at(end) - self.capacity_at(start)

    def produced_transfer(
        self, first_byte: float, made_at: list[float], bits: list[float]
    ) -> ProducedTransfer:
        """A response its server streams as it is made: chunk j's `bits[j]` exist from
        `made_at[j]`, and the link carries each chunk once it exists and the one before is in.
        The first chunk is there by `first_byte` (it was requested once available)."""
        t = self.transfer_end(first_byte, bits[0])
        spans = [(first_byte, t, bits[0])]
        for made, size in zip(made_at[1:], bits[1:], strict=True):
            start = made if made > t else t
            t = self.transfer_end(start, size)
            spans.append((start, t, size))
        return ProducedTransfer(tuple(spans))


@dataclass(frozen=True, slots=True)
class ProducedTransfer:
    """Per chunk: (sending from, in at, bits). Between chunks the link may wait for the maker."""

    spans: tuple[tuple[float, float, float], ...]

    @property
    def done_at(self) -> float:
        return self.spans[-1][1]

    @property
    def busy_s(self) -> float:
        """The time bytes were arriving: the waits for the maker left out."""
        return sum(end - start for start, end, _ in self.spans)

    def received_bits(self, link: TraceLink, t: float) -> float:
        got = 0.0
        for start, end, size in self.spans:
            if t >= end:
                got += size
            else:
                return got + min(link.bits_between(start, t), size)
        return got


@dataclass(frozen=True, slots=True)
class RequestModel:
    """What a real HTTP request costs beyond the trace, for predicting real sessions.

    Off by default (and under the `sabre` profile): Sabre's model is the trace alone. The QA
    harness measures these terms on real sessions (`streamlab qa --fidelity`).
    - overhead_s: per request, on top of the trace's latency (client, HTTP, CDN);
    - transfer_bits[segment][rendition]: the bytes actually sent, when the manifest only
      announces a bandwidth (the player decides on the estimate, the link carries the file).
    Init segments are not modelled: as their own requests they made the prediction worse
    (QoE_lin 4.7 % off instead of 1.8 % over the dev traces, docs/qa.md).
    """

    overhead_s: float = 0.0
    transfer_bits: tuple[tuple[float, ...], ...] | None = None
