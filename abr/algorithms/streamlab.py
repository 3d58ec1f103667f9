"""`streamlab`, the default: RobustMPC at low buffer, and no lower than BOLA-E at high buffer.

RobustMPC plans well when the buffer is thin and every download decides whether playback
stalls. With a deep buffer it over-reacts to short throughput dips (its prediction is
discounted by the worst recent error), dropping quality and paying the switch twice, where
a buffer-based rule rides the dip out. So above `bola_above` x the buffer target, take the
higher of the two choices; below it, MPC alone decides. BOLA-E is consulted at every step
so its placeholder buffer stays current.

Chosen on the even-numbered half of every dev trace set and checked on the odd half
(README, "How streamlab was tuned").
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithm import Decision
from abr.algorithms.bolae import BolaEAbr
from abr.algorithms.robustmpc import RobustMpcAbr
from abr.context import AbrContext, DownloadRecord


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class StreamlabAbr(RobustMpcAbr):
    name = "streamlab"

    def __init__(self, horizon: int = 5, window: int = 5, bola_above: float = 0.5) -> None:
        super().__init__(horizon=horizon, window=window)
        self.bola_above = bola_above
        self.bolae = BolaEAbr()

    def start(self, ctx: AbrContext) -> None:
        super().start(ctx)
        self.bolae.start(ctx)

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        super().on_download(ctx, record)
        self.bolae.on_download(ctx, record)

    def on_idle(self, ctx: AbrContext, waited_s: float) -> None:
        self.bolae.on_idle(ctx, waited_s)

    def on_seek(self, ctx: AbrContext) -> None:
        self.bolae.on_seek(ctx)

    def choose(self, ctx: AbrContext) -> int:
        by_plan = super().choose(ctx)
        by_buffer = self.bolae.choose(ctx)
        if isinstance(by_buffer, Decision):
            by_buffer = by_buffer.rendition
        if ctx.buffer_s >= self.bola_above * ctx.buffer_target_s:
            return max(by_plan, by_buffer)
        return by_plan
