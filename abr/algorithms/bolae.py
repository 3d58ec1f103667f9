"""BOLA-E (Spiteri, Sitaraman, Sparacio, MMSys'18): BOLA made practical.

- Start-up: the first decision after a (re)start follows throughput, and a *placeholder*
  (virtual buffer) is set so BOLA's next decisions agree with it instead of dropping back.
- Placeholder: time spent waiting (full buffer, pacing) is added to a virtual buffer, so a
  small real buffer still reaches the top rendition; it is trimmed when it overstates.
- Insufficient-buffer rule: never choose a segment that the buffer cannot cover.
- Up-switches are capped at one above what the throughput sustains (BOLA-U).
- Abandonment by BOLA score on the bits still to come, net of the latency a new request pays.
Constants as in the paper and dash.js: 10 s minimum buffer plus 2 s per rendition.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.algorithms.bola_math import BolaScore
from abr.context import AbrContext, Decision, DownloadRecord, Progress
from abr.rules.insufficient_buffer import InsufficientBufferRule

MIN_BUFFER_S = 10.0
MIN_BUFFER_PER_LEVEL_S = 2.0


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class BolaEAbr(AbrAlgorithm):
    name = "bolae"

    def __init__(self, insufficient_buffer_rule: bool = True) -> None:
        self.use_ibr = insufficient_buffer_rule
        self._score: BolaScore | None = None
        self._ibr = InsufficientBufferRule()
        self._starting = True
        self._placeholder = 0.0
        self._last = 0

    @property
    def score(self) -> BolaScore:
        if self._score is None:
            raise RuntimeError("BolaEAbr.start() was not called")
        return self._score

    def start(self, ctx: AbrContext) -> None:
        score = BolaScore(ctx.bitrates_kbps, utility_offset=1.0)
        buffer_s = max(
            MIN_BUFFER_S + MIN_BUFFER_PER_LEVEL_S * len(ctx.bitrates_kbps), ctx.buffer_target_s
        )
        u_max = score.utilities[-1]
        score.gp = max(u_max - 1.0, 1e-6) / (buffer_s / MIN_BUFFER_S - 1.0)
        score.vp = MIN_BUFFER_S / score.gp
        self._score = score
        self._starting = True
        self._placeholder = 0.0
        self._last = 0

    def choose(self, ctx: AbrContext) -> Decision:
        score = self.score
        level = ctx.buffer_s
        tput = ctx.throughput_kbps
        top = ctx.max_rendition
        if tput is None:
            return Decision(min(self._last, top), reason="no throughput estimate: hold")
        if self._starting:
            self._starting = False
            self._ibr = InsufficientBufferRule()
            quality = ctx.highest_sustainable(tput)
            self._placeholder = max(0.0, score.min_buffer_for(quality) - level)
            return Decision(quality, reason=("start-up: throughput {:.2f} Mbit/s", tput / 1000.0))

        quality = score.best(level + self._placeholder, top)
        why = "bola score at buffer {:.1f} s + placeholder {:.1f} s"
        placeholder = self._placeholder
        sustainable = ctx.highest_sustainable(tput)
        if quality > self._last and quality > sustainable:
            quality = max(self._last, sustainable) + 1
            why += "; one above sustainable"

        delay = level + self._placeholder - score.max_buffer_for(quality)
        if delay > 0:
            if delay <= self._placeholder:
                self._placeholder -= delay
                delay = 0.0
            else:
                delay -= self._placeholder
                self._placeholder = 0.0
        else:
            delay = 0.0
        if quality == top:
            delay = 0.0

        if self.use_ibr:
            capped = self._ibr.cap(ctx, quality, tput)
            if capped < quality:
                quality, delay = capped, 0.0
                why += "; insufficient buffer"
                room = max(0.0, score.min_buffer_for(quality) - level)
                self._placeholder = min(self._placeholder, room)
        return Decision(quality, delay, (why, level, placeholder))

    def on_idle(self, ctx: AbrContext, waited_s: float) -> None:
        self._placeholder += waited_s

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        score = self.score
        level = ctx.buffer_s
        if record.abandoned:
            # Something went wrong: fall back to a conservative virtual buffer.
            self._placeholder = min(self._placeholder, max(0.0, MIN_BUFFER_S - level))
            return
        self._last = record.rendition_index
        level_was = level + (record.done_at - record.requested_at)
        room = max(0.0, score.max_buffer_for(record.rendition_index) - level_was)
        self._placeholder = min(self._placeholder, room)
        if level > 0:
            floor = score.min_buffer_for(record.rendition_index) - level_was
            self._placeholder = max(self._placeholder, floor)

    def on_seek(self, ctx: AbrContext) -> None:
        self._starting = True

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> Decision | None:
        latency = progress.latency_s
        remaining = progress.size_bits - progress.received_bits
        if latency is None or progress.received_bits <= 0 or remaining <= 0:
            return None
        transfer_s = progress.elapsed_s - latency
        if transfer_s <= 0:
            return None
        score = self.score
        # A new request pays the latency again: judge from where we would be after it.
        level = max(0.0, ctx.buffer_s + self._placeholder - latency)
        rate = progress.received_bits / transfer_s
        left = remaining - latency * rate
        if left <= 0:
            return None
        current = progress.rendition_index
        best = (score.vp * (score.gp + score.utilities[current]) - level) / left
        target: int | None = None
        for q in range(current):
            other = progress.size_bits * score.bitrates[q] / score.bitrates[current]
            other_score = (score.vp * (score.gp + score.utilities[q]) - level) / other
            if other < left and other_score > best:
                best, target = other_score, q
        if target is None:
            return None
        return Decision(target, reason="abandoned: a lower rendition scores higher (bola-e)")
