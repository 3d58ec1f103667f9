"""BOLA's Lyapunov score, shared by BOLA, BOLA-E and DYNAMIC.

For buffer level Q, rendition m with utility u_m and bitrate S_m, BOLA picks
argmax_m (V * (u_m + gp) - Q) / S_m. Thresholds: rendition m is preferred to m-1 above
`min_buffer_for(m)` and no rendition is wanted above `max_buffer_for(m)`.
"""

from __future__ import annotations

import math


class BolaScore:
    __slots__ = ("bitrates", "gp", "utilities", "vp")

    def __init__(self, bitrates_kbps: list[float], utility_offset: float) -> None:
        base = math.log(bitrates_kbps[0])
        self.bitrates = bitrates_kbps
        self.utilities = [math.log(b) - base + utility_offset for b in bitrates_kbps]
        self.gp = 0.0
        self.vp = 0.0

    def best(self, level_s: float, top: int) -> int:
        vp, gp = self.vp, self.gp
        quality = 0
        score = -math.inf
        for q in range(top + 1):
            s = (vp * (self.utilities[q] + gp) - level_s) / self.bitrates[q]
            if s > score:
                quality, score = q, s
        return quality

    def max_buffer_for(self, quality: int) -> float:
        return self.vp * (self.utilities[quality] + self.gp)

    def min_buffer_for(self, quality: int) -> float:
        """Level above which BOLA prefers `quality` to every lower rendition."""
        b, u = self.bitrates[quality], self.utilities[quality]
        level = 0.0
        for q in range(quality):
            bq, uq = self.bitrates[q], self.utilities[q]
            if uq < u:
                level = max(level, self.vp * (self.gp + (b * uq - bq * u) / (b - bq)))
        return level
