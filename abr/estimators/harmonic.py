"""Sliding-window harmonic mean of the last N throughput samples (MPC's predictor).

The harmonic mean is dominated by the slow samples, which is what a stall-averse predictor
wants. Latency is the plain mean of the same window.

With `shift_ratio` set, a sample more than that factor above or below the harmonic mean of
the window before it is taken as a level shift (a handover, the end of a tunnel, a new
bottleneck): the window restarts from that sample. A plain window needs several samples to
believe a step up, and a step down drags on it just as long, in both cases at the wrong rate.
"""

from __future__ import annotations

from collections import deque


class SlidingHarmonicMean:
    __slots__ = ("_latencies", "_samples", "latency_s", "shift_ratio", "throughput_kbps")

    def __init__(self, window: int = 5, shift_ratio: float | None = None) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        if shift_ratio is not None and shift_ratio <= 1.0:
            raise ValueError("shift_ratio must be above 1")
        self._samples: deque[float] = deque(maxlen=window)
        self._latencies: deque[float] = deque(maxlen=window)
        self.shift_ratio = shift_ratio
        self.throughput_kbps: float | None = None
        self.latency_s = 0.0

    @property
    def samples(self) -> int:
        """How many samples the window holds (1 right after a level shift)."""
        return len(self._samples)

    def add_sample(self, transfer_s: float, throughput_kbps: float, latency_s: float) -> None:
        sample = max(throughput_kbps, 1e-9)
        ratio = self.shift_ratio
        if ratio is not None and self.throughput_kbps is not None:
            before = self.throughput_kbps
            if sample > ratio * before or sample * ratio < before:
                self._samples.clear()
                self._latencies.clear()
        self._samples.append(sample)
        self._latencies.append(latency_s)
        inverse = 0.0
        for value in self._samples:
            inverse += 1.0 / value
        self.throughput_kbps = len(self._samples) / inverse
        latency = 0.0
        for value in self._latencies:
            latency += value
        self.latency_s = latency / len(self._latencies)
