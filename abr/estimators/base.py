"""The small interface every estimator implements."""

from __future__ import annotations

from typing import Protocol


class ThroughputEstimator(Protocol):
    """`throughput_kbps` is None until the first sample; `latency_s` is 0 until then."""

    throughput_kbps: float | None
    latency_s: float

    def add_sample(self, transfer_s: float, throughput_kbps: float, latency_s: float) -> None:
        """One download: its transfer time (after the first byte), throughput and latency."""
        ...
