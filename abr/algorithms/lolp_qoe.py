"""LoL+'s QoE model and its dynamic weight selection (dash.js `LoLpQoEEvaluator`,
`LoLpWeightSelector`; Lim et al., "When they go high, we go low", MMSys 2020).

QoE of one segment, in kbit/s-weighted terms: bitrate x segment duration, less rebuffering x
the top bitrate, latency x (5 % of the lowest bitrate up to 1.1 s, 10 % of the top one above),
and |1 - playback rate| x the lowest bitrate.

The weight selector scores every rendition under every weight vector of the grid
{0.2, 0.4, 0.6, 0.8, 1}^4 (throughput, latency, buffer, switch) and returns the vector of the
best score among those whose predicted state meets the constraints (latency no more than the
target plus its last change, the buffer after the download at least `buffer_min_s`). Only the
latency and buffer weights enter the score; dash.js enumerates the other two as well, which
only adds ties that its first-wins order settles at the grid's lowest value. Here only the 25
latency x buffer pairs are scored, with that same result.
"""

from __future__ import annotations

GRID = (0.2, 0.4, 0.6, 0.8, 1.0)
LATENCY_THRESHOLD_S = 1.1


class LolpQoe:
    """The per-segment QoE of one presentation's ladder."""

    __slots__ = ("high_latency_weight", "low_latency_weight", "max_kbps", "min_kbps", "segment_s")

    def __init__(self, segment_s: float, min_kbps: float, max_kbps: float) -> None:
        self.segment_s = segment_s
        self.min_kbps = min_kbps
        self.max_kbps = max_kbps
        self.low_latency_weight = 0.05 * min_kbps
        self.high_latency_weight = 0.1 * max_kbps

    def score(self, bitrate_kbps: float, rebuffer_s: float, latency_s: float, rate: float) -> float:
        if latency_s <= LATENCY_THRESHOLD_S:
            latency_penalty = self.low_latency_weight * latency_s
        else:
            latency_penalty = self.high_latency_weight * latency_s
        return (
            self.segment_s * bitrate_kbps
            - self.max_kbps * rebuffer_s
            - latency_penalty
            - self.min_kbps * abs(1.0 - rate)
        )


def next_buffer_s(buffer_s: float, download_s: float, segment_s: float) -> float:
    """The buffer once a segment taking `download_s` is in (LoL+'s one-step prediction)."""
    if download_s > segment_s:
        return buffer_s - segment_s
    return buffer_s + segment_s - download_s


class WeightSelector:
    """Picks the SOM's distance weights from the predicted QoE (LoL+'s dynamic weights)."""

    __slots__ = ("_previous_latency_s", "buffer_min_s", "target_latency_s")

    def __init__(self, target_latency_s: float, buffer_min_s: float) -> None:
        self.target_latency_s = target_latency_s
        self.buffer_min_s = buffer_min_s
        self._previous_latency_s = 0.0

    def select(
        self,
        qoe: LolpQoe,
        bitrates_kbps: list[float],
        latency_states: list[float],
        latency_s: float,
        buffer_s: float,
        throughput_kbps: float,
        rate: float,
    ) -> tuple[float, float, float, float] | None:
        """The weight vector (throughput, latency, buffer, switch), or None when no rendition
        meets the constraints (the caller keeps its weights)."""
        drift = abs(latency_s - self._previous_latency_s)
        self._previous_latency_s = latency_s
        if latency_s > self.target_latency_s + drift:
            return None  # the latency constraint fails whatever the rendition
        seg = qoe.segment_s
        best: float | None = None
        winner: tuple[float, float, float, float] | None = None
        for q, bitrate in enumerate(bitrates_kbps):
            download_s = bitrate * seg / throughput_kbps
            after = next_buffer_s(buffer_s, download_s, seg)
            if after < self.buffer_min_s:
                continue
            rebuffer = max(0.00001, download_s - after)
            for w_latency in GRID:
                for w_buffer in GRID:
                    value = qoe.score(
                        bitrate, rebuffer / w_buffer, latency_states[q] / w_latency, rate
                    )
                    if best is None or value > best:
                        best = value
                        winner = (GRID[0], w_latency, w_buffer, GRID[0])
        return winner
