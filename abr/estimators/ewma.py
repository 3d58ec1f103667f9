"""Dual-half-life EWMA (as hls.js and Sabre do): a fast and a slow average, take the safer one.

Throughput samples are weighted by their transfer time, so a long download counts more than
a short one; latency samples are weighted per download, with the half-life converted from
seconds to downloads by the segment duration. Both averages start at zero and are divided by
the weight seen so far ("zero-factor" correction), so early estimates are not biased low.
"""

from __future__ import annotations

import math


class DualEwma:
    __slots__ = (
        "_lat_decay",
        "_lat_half_lives",
        "_lat_unseen",
        "_latency",
        "_tput",
        "_tput_half_lives",
        "_tput_unseen",
        "latency_s",
        "throughput_kbps",
    )

    def __init__(
        self, half_lives_s: tuple[float, float] = (3.0, 9.0), segment_duration_s: float = 4.0
    ) -> None:
        if min(half_lives_s) <= 0 or segment_duration_s <= 0:
            raise ValueError("EWMA half-lives and segment duration must be positive")
        self._tput_half_lives = tuple(half_lives_s)
        self._lat_half_lives = tuple(h / segment_duration_s for h in half_lives_s)
        self._lat_decay = tuple(math.pow(0.5, 1.0 / h) for h in self._lat_half_lives)
        self._tput = [0.0] * len(half_lives_s)
        self._latency = [0.0] * len(half_lives_s)
        # 0.5 ** (weight seen / half-life), kept as a running product: 1 - it is the zero factor.
        self._tput_unseen = [1.0] * len(half_lives_s)
        self._lat_unseen = [1.0] * len(half_lives_s)
        self.throughput_kbps: float | None = None
        self.latency_s = 0.0

    def add_sample(self, transfer_s: float, throughput_kbps: float, latency_s: float) -> None:
        tput = math.inf
        lat = 0.0
        for i, half_life in enumerate(self._tput_half_lives):
            alpha = math.pow(0.5, transfer_s / half_life)
            average = self._tput[i] = alpha * self._tput[i] + (1.0 - alpha) * throughput_kbps
            unseen = self._tput_unseen[i] = self._tput_unseen[i] * alpha
            estimate = average / (1.0 - unseen) if unseen < 1.0 else throughput_kbps
            if estimate < tput:
                tput = estimate
            decay = self._lat_decay[i]
            latency = self._latency[i] = decay * self._latency[i] + (1.0 - decay) * latency_s
            lat_unseen = self._lat_unseen[i] = self._lat_unseen[i] * decay
            lat_estimate = latency / (1.0 - lat_unseen)
            if lat_estimate > lat:
                lat = lat_estimate
        self.throughput_kbps = tput
        self.latency_s = lat
