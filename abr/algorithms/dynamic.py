"""DYNAMIC (dash.js default; Spiteri et al., MMSys'18): throughput at low buffer, BOLA above.

Both rules are consulted every decision (so each keeps its own state current). Switch to
BOLA once the buffer exceeds the threshold and BOLA asks for at least what throughput does;
switch back when the buffer falls below it and BOLA asks for less. The threshold is 10 s,
or half the buffer target when that is smaller. Abandonment follows the throughput rule.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.algorithms.bola import BolaAbr
from abr.algorithms.throughput import ThroughputAbr
from abr.context import AbrContext, Decision, DownloadRecord, Progress

SWITCH_BUFFER_S = 10.0


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class DynamicAbr(AbrAlgorithm):
    name = "dynamic"

    def __init__(
        self,
        switch_buffer_s: float | None = None,
        gamma_p: float | None = None,
        dynamic_vp: bool = False,
        throughput_guard: bool = False,
    ) -> None:
        self.switch_buffer_s = switch_buffer_s
        self.bola = BolaAbr(
            gamma_p=gamma_p, dynamic_vp=dynamic_vp, throughput_guard=throughput_guard
        )
        self.throughput = ThroughputAbr()
        self._threshold = SWITCH_BUFFER_S
        self._use_bola = False

    def start(self, ctx: AbrContext) -> None:
        self.bola.start(ctx)
        self.throughput.start(ctx)
        self._threshold = (
            self.switch_buffer_s
            if self.switch_buffer_s is not None
            else min(SWITCH_BUFFER_S, 0.5 * ctx.buffer_target_s)
        )
        self._use_bola = False

    def choose(self, ctx: AbrContext) -> Decision:
        by_buffer = self.bola.choose(ctx)
        by_throughput = self.throughput.choose(ctx)
        level = ctx.buffer_s
        if self._use_bola:
            if level < self._threshold and by_buffer.rendition < by_throughput.rendition:
                self._use_bola = False
        elif level > self._threshold and by_buffer.rendition >= by_throughput.rendition:
            self._use_bola = True
        chosen = by_buffer if self._use_bola else by_throughput
        return Decision(chosen.rendition, reason=("dynamic: {}", chosen.reason))

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        self.bola.on_download(ctx, record)
        self.throughput.on_download(ctx, record)

    def on_seek(self, ctx: AbrContext) -> None:
        self.bola.on_seek(ctx)
        self._use_bola = False

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> Decision | None:
        return self.throughput.should_abandon(ctx, progress)
