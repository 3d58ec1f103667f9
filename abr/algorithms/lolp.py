"""LoL+ (Lim et al., MMSys 2020 grand challenge on low-latency live; dash.js `LoLpRule` and its
"lolp" catch-up mode): a learning rendition choice and a hybrid playback-speed control.

Rendition: the self-organising map of `abr.algorithms.lolp_som`, fed the safe throughput (the
estimate x `safety`), the latency at the playhead, the buffer and the playback rate, with
weights from the QoE-driven selector of `abr.algorithms.lolp_qoe`.

Playback speed (`playback_rate`), dash.js's `_calculateNewPlaybackRateLolP`:
- buffer below `buffer_min_s` (0.5 s): slow down, by a sigmoid of how far below it is;
- else latency within 2 % of the target: 1x;
- else a sigmoid of the latency error: 1 + c (2 / (1 + e^(-5 error)) - 1), c the allowed change.
A new rate differing from the current one by less than 4 % of c is not worth a change (dash.js's
minimum step), except a return to 1x.

In VOD there is no latency (taken as 0, as dash.js does without one) and the session plays at
1x: the map alone chooses.
"""

from __future__ import annotations

import math
import random

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.algorithms.lolp_qoe import LolpQoe, WeightSelector
from abr.algorithms.lolp_som import LearningController
from abr.context import AbrContext, Decision

# dash.js's weight selector holds this latency whatever the player's target (DWS_TARGET_LATENCY);
# here it is the session's target, and this only when there is none.
DEFAULT_TARGET_LATENCY_S = 1.5
SIGMOID_SLOPE = 5.0  # per second of error (dash.js)
IN_BAND = 0.02  # of the target: close enough to play at 1x
MIN_STEP = 0.04  # of the allowed change: smaller rate changes are skipped
# Faster than 1x only with this many `buffer_min_s` buffered. dash.js needs no such margin: its
# low-latency segments arrive chunk by chunk (CMAF), so the buffer grows during a download.
# Here a segment arrives whole: right after a stall the buffer is the one segment that ended
# it, and speeding up on it (the latency is high then) drained it into the next stall, every
# segment after a step down (7 stalls in 60 s at 1 Mbit/s after 5, 0.5 s segments).
SPEED_UP_BUFFERS = 2.0


def sigmoid_rate(error: float, max_change: float) -> float:
    """1 +- up to `max_change`, following `error` (seconds) with dash.js's slope."""
    return (1.0 - max_change) + 2.0 * max_change / (1.0 + math.exp(-SIGMOID_SLOPE * error))


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class LolpAbr(AbrAlgorithm):
    name = "lolp"

    def __init__(
        self,
        safety: float = 0.9,
        min_buffer_s: float = 0.3,
        buffer_min_s: float = 0.5,
        seed: int = 0,
    ) -> None:
        """`min_buffer_s`: what a download must leave in the buffer (dash.js DWS_BUFFER_MIN);
        `buffer_min_s`: below it playback slows (dash.js liveCatchup.playbackBufferMin)."""
        if not 0 < safety <= 1:
            raise ValueError(f"lolp: safety must be in (0, 1], not {safety!r}")
        for label, value in (("min_buffer_s", min_buffer_s), ("buffer_min_s", buffer_min_s)):
            if not 0 <= value < math.inf:
                raise ValueError(f"lolp: {label} must be a non-negative number, not {value!r}")
        self.safety = safety
        self.min_buffer_s = min_buffer_s
        self.buffer_min_s = buffer_min_s
        self.seed = seed
        self._controller: LearningController | None = None
        self._qoe: LolpQoe | None = None

    def start(self, ctx: AbrContext) -> None:
        bitrates = list(ctx.bitrates_kbps)
        target = ctx.live_target_latency_s or DEFAULT_TARGET_LATENCY_S
        selector = WeightSelector(target, self.min_buffer_s)
        self._controller = LearningController(bitrates, selector, random.Random(self.seed))
        self._qoe = LolpQoe(ctx.segment_duration_s, min(bitrates), max(bitrates))

    def choose(self, ctx: AbrContext) -> Decision:
        controller, qoe = self._controller, self._qoe
        if controller is None or qoe is None or controller.bitrates_kbps != ctx.bitrates_kbps:
            self.start(ctx)  # first call, or a live reload changed the ladder
            controller, qoe = self._controller, self._qoe
            assert controller is not None and qoe is not None
        tput = ctx.throughput_kbps
        if tput is None:
            return Decision(0, reason="lolp: no throughput estimate yet")
        safe = tput * self.safety
        latency = ctx.live_latency_s or 0.0
        current = min(ctx.last_rendition or 0, ctx.max_rendition)
        quality, path = controller.next_quality(
            qoe, current, safe, latency, ctx.buffer_s, ctx.playback_rate
        )
        return Decision(
            min(quality, ctx.max_rendition),
            reason=(
                "lolp {}: safe throughput {:.2f} Mbit/s, latency {:.2f} s",
                path,
                safe / 1e3,
                latency,
            ),
        )

    def playback_rate(self, ctx: AbrContext, max_change: float) -> float | None:
        latency = ctx.live_latency_s
        target = ctx.live_target_latency_s
        if latency is None or target is None:
            return None
        buffer = ctx.buffer_s
        if buffer < self.buffer_min_s:
            rate = sigmoid_rate(buffer - self.buffer_min_s, max_change)  # below 1: spare it
        elif abs(latency - target) <= IN_BAND * target:
            rate = 1.0
        else:
            rate = sigmoid_rate(latency - target, max_change)
            if rate > 1.0 and buffer < SPEED_UP_BUFFERS * self.buffer_min_s:
                rate = 1.0
        now = ctx.playback_rate
        if rate != 1.0 and abs(rate - now) < MIN_STEP * max_change:
            return now
        return rate
