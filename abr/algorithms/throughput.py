"""Rate-based ABR: the highest rendition the (safety-scaled) throughput estimate sustains.

With the insufficient-buffer rule on (default), a low buffer caps the choice further.
Its own abandonment rule follows dash.js/Sabre: after a grace time, if the download will take
longer than `abandon_multiplier` segment durations, drop to what the measured rate sustains.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.context import AbrContext, Decision, Progress
from abr.rules.insufficient_buffer import InsufficientBufferRule


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class ThroughputAbr(AbrAlgorithm):
    name = "throughput"

    def __init__(
        self,
        safety: float = 0.9,
        insufficient_buffer_rule: bool = True,
        abandon_multiplier: float = 1.8,
        abandon_grace_s: float = 0.5,
    ) -> None:
        self.safety = safety
        self.use_ibr = insufficient_buffer_rule
        self.abandon_multiplier = abandon_multiplier
        self.abandon_grace_s = abandon_grace_s
        self._ibr = InsufficientBufferRule()

    def start(self, ctx: AbrContext) -> None:
        self._ibr = InsufficientBufferRule()

    def choose(self, ctx: AbrContext) -> Decision:
        tput = ctx.throughput_kbps
        if tput is None:
            return Decision(0, reason="no throughput estimate yet")
        quality = ctx.highest_sustainable(tput * self.safety)
        why = "throughput {:.2f} Mbit/s x {:g} safety"
        if self.use_ibr:
            capped = self._ibr.cap(ctx, quality, tput)
            if capped < quality:
                quality = capped
                why += "; insufficient buffer"
        return Decision(quality, reason=(why, tput / 1000.0, self.safety))

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> Decision | None:
        latency = progress.latency_s
        if latency is None or progress.elapsed_s < self.abandon_grace_s:
            return None
        transfer_s = progress.elapsed_s - latency
        if transfer_s <= 0 or progress.received_bits <= 0:
            return None
        rate_kbps = progress.received_bits / transfer_s / 1000.0
        left_bits = progress.size_bits - progress.received_bits
        finish_s = progress.elapsed_s + left_bits / (rate_kbps * 1000.0)
        if finish_s <= self.abandon_multiplier * ctx.segment_duration_s:
            return None
        quality = ctx.highest_sustainable(rate_kbps * self.safety)
        new_size = ctx.sizes_bits[progress.segment_index][quality]
        if quality >= progress.rendition_index or new_size >= left_bits:
            return None
        return Decision(
            quality,
            reason=(
                "abandoned: would take {:.1f} s at {:.2f} Mbit/s",
                finish_s,
                rate_kbps / 1000.0,
            ),
        )
