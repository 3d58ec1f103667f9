"""BOLA-BASIC (Spiteri et al., INFOCOM'16): buffer-based Lyapunov optimisation.

Parameters come from the buffer target. By default as dash.js derives them: utilities
ln(S_m/S_0) + 1, and (gp, V) chosen so the lowest rendition is picked below `min_buffer`
and the highest near the top of the range the buffer can hold at decision time (the target
less one segment, since the next request waits for room). With `gamma_p` set, the paper's
form instead: utilities ln(S_m/S_0) and V = (target - segment) / (u_max + gp).

Two refinements Sabre's BOLA applies, off by default:
- `dynamic_vp`: near the start (or after a seek) and near the end, act as if the buffer
  target were smaller, so BOLA ramps up sooner and does not hoard at the end.
- `throughput_guard` (BOLA-O/U): never step up beyond one rendition above what the
  throughput estimate sustains.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.algorithms.bola_math import BolaScore
from abr.context import AbrContext, Decision, Progress, Why

DASHJS_MIN_BUFFER_S = 10.0


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class BolaAbr(AbrAlgorithm):
    name = "bola"

    def __init__(
        self,
        gamma_p: float | None = None,
        dynamic_vp: bool = False,
        throughput_guard: bool = False,
        abandon: bool = True,
    ) -> None:
        self.gamma_p = gamma_p
        self.dynamic_vp = dynamic_vp
        self.throughput_guard = throughput_guard
        self.abandon = abandon
        self._score: BolaScore | None = None
        self._last = 0

    @property
    def score(self) -> BolaScore:
        if self._score is None:
            raise RuntimeError("BolaAbr.start() was not called")
        return self._score

    def start(self, ctx: AbrContext) -> None:
        top_u_offset = 0.0 if self.gamma_p is not None else 1.0
        self._score = BolaScore(ctx.bitrates_kbps, top_u_offset)
        self._set_parameters(ctx, ctx.buffer_target_s)
        self._last = 0

    def _set_parameters(self, ctx: AbrContext, buffer_s: float) -> None:
        score = self.score
        u_max = score.utilities[-1]
        seg = ctx.segment_duration_s
        if self.gamma_p is not None:
            score.gp = self.gamma_p
            score.vp = max(buffer_s - seg, 1e-3) / (u_max + self.gamma_p)
            return
        room = max(buffer_s - seg, seg)
        min_buffer = min(DASHJS_MIN_BUFFER_S, room / 3.0)
        if u_max <= 1.0:  # a single rendition: any parameters do
            score.gp, score.vp = 1.0, min_buffer
            return
        score.gp = (u_max - 1.0) / (room / min_buffer - 1.0)
        score.vp = min_buffer / score.gp

    def choose(self, ctx: AbrContext) -> Decision:
        if self.dynamic_vp:
            since_start = ctx.segment_index - ctx.start_index
            horizon = max(min(since_start, ctx.segments_left) / 2.0, 3.0)
            self._set_parameters(ctx, min(ctx.buffer_target_s, horizon * ctx.segment_duration_s))
        quality = self.score.best(ctx.buffer_s, ctx.max_rendition)
        reason: Why = ("bola score at buffer {:.1f} s", ctx.buffer_s)
        if self.throughput_guard and quality > self._last and ctx.throughput_kbps is not None:
            sustainable = ctx.highest_sustainable(ctx.throughput_kbps)
            if quality > sustainable:
                quality = self._last if self._last > sustainable else sustainable + 1
                reason = ("bola score at buffer {:.1f} s; throughput guard", ctx.buffer_s)
        self._last = quality
        return Decision(quality, reason=reason)

    def on_seek(self, ctx: AbrContext) -> None:
        self._last = 0

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> Decision | None:
        """Abandon to a lower rendition whose BOLA score, for the bits still to come, is higher."""
        if not self.abandon:
            return None
        remaining = progress.size_bits - progress.received_bits
        if progress.received_bits <= 0 or remaining <= 0:
            return None
        score = self.score
        level = ctx.buffer_s
        current = progress.rendition_index
        best = (score.vp * (score.gp + score.utilities[current]) - level) / remaining
        if best < 0:
            return None
        target: int | None = None
        for q in range(current):
            other = progress.size_bits * score.bitrates[q] / score.bitrates[current]
            other_score = (score.vp * (score.gp + score.utilities[q]) - level) / other
            if other < remaining and other_score > best:
                best, target = other_score, q
        if target is None:
            return None
        self._last = target
        return Decision(target, reason="abandoned: a lower rendition scores higher (bola)")
