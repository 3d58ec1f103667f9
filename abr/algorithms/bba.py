"""BBA-0 (Huang et al., SIGCOMM'14): choose by buffer level alone.

Below the reservoir: the lowest rendition. Above reservoir + cushion: the highest. In
between, a linear rate map f(buffer); the rendition changes only when f crosses the next
rendition up or down, which damps oscillation. Reservoir and cushion shrink proportionally
when the buffer target is too small to hold them.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.context import AbrContext, Decision, Why


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class BbaAbr(AbrAlgorithm):
    name = "bba"

    def __init__(self, reservoir_s: float = 5.0, cushion_s: float = 10.0) -> None:
        self.reservoir_s = reservoir_s
        self.cushion_s = cushion_s
        self._reservoir = reservoir_s
        self._cushion = cushion_s
        self._last = 0

    def start(self, ctx: AbrContext) -> None:
        # The buffer peaks at the target right after a download; keep the map inside it.
        room = 0.9 * ctx.buffer_target_s
        scale = min(1.0, room / (self.reservoir_s + self.cushion_s))
        self._reservoir = self.reservoir_s * scale
        self._cushion = self.cushion_s * scale
        self._last = 0

    def choose(self, ctx: AbrContext) -> Decision:
        rates = ctx.bitrates_kbps
        top = ctx.max_rendition
        level = ctx.buffer_s
        if level <= self._reservoir:
            quality = 0
            reason: Why = ("buffer {:.1f} s below reservoir {:.1f} s", level, self._reservoir)
        elif level >= self._reservoir + self._cushion:
            quality = top
            reason = ("buffer {:.1f} s above reservoir + cushion", level)
        else:
            f = rates[0] + (rates[top] - rates[0]) * (level - self._reservoir) / self._cushion
            last = min(self._last, top)
            up = rates[min(last + 1, top)]
            down = rates[max(last - 1, 0)]
            if f >= up:
                quality = max(q for q in range(top + 1) if rates[q] < f or q == 0)
                reason = ("rate map {:.0f} kbit/s crossed the next rendition up", f)
            elif f <= down:
                quality = min(q for q in range(top + 1) if rates[q] > f or q == top)
                reason = ("rate map {:.0f} kbit/s crossed the next rendition down", f)
            else:
                quality = last
                reason = ("rate map {:.0f} kbit/s between neighbours: hold", f)
        self._last = quality
        return Decision(quality, reason=reason)
