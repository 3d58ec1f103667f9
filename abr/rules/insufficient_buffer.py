"""Insufficient-buffer rule (BOLA-E paper; dash.js InsufficientBufferRule).

Never pick a rendition whose next segment could not be downloaded, at the estimated
throughput, within a safety fraction of the buffer left after latency. The safety starts at
0.9 and decays per decision towards 0.5 (trusting the estimate more as it matures).
"""

from __future__ import annotations

from abr.context import AbrContext

SAFETY_INITIAL = 0.9
SAFETY_FLOOR = 0.5


class InsufficientBufferRule:
    __slots__ = ("safety",)

    def __init__(self) -> None:
        self.safety = SAFETY_INITIAL

    def cap(self, ctx: AbrContext, quality: int, throughput_kbps: float) -> int:
        """`quality`, lowered until its segment fits the safe download budget."""
        safe_kbits = self.safety * (ctx.buffer_s - ctx.latency_s) * throughput_kbps
        self.safety = max(self.safety * SAFETY_INITIAL, SAFETY_FLOOR)
        d = ctx.segment_duration_s
        bitrates = ctx.bitrates_kbps
        for q in range(quality):
            if bitrates[q + 1] * d > safe_kbits:
                return q
        return quality
