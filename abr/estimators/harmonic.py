"""Sliding-window harmonic mean of the last N throughput samples (MPC's predictor).

The harmonic mean is dominated by the slow samples, which is what a stall-averse predictor
wants. Latency is the plain mean of the same window.
"""

from __future__ import annotations

from collections import deque


class SlidingHarmonicMean:
    __slots__ = ("_latencies", "_samples", "latency_s", "throughput_kbps")

    def __init__(self, window: int = 5) -> None:
        if window < 1:
            raise ValueError("window must be at least 1")
        self._samples: deque[float] = deque(maxlen=window)
        self._latencies: deque[float] = deque(maxlen=window)
        self.throughput_kbps: float | None = None
        self.latency_s = 0.0

    def add_sample(self, transfer_s: float, throughput_kbps: float, latency_s: float) -> None:
        self._samples.append(max(throughput_kbps, 1e-9))
        self._latencies.append(latency_s)
        inverse = 0.0
        for sample in self._samples:
            inverse += 1.0 / sample
        self.throughput_kbps = len(self._samples) / inverse
        latency = 0.0
        for value in self._latencies:
            latency += value
        self.latency_s = latency / len(self._latencies)
