"""`streamlab`, the default: robust MPC with a more cautious predictor and a buffer guard.

- Prediction: the lower of the window's harmonic mean and the session's dual EWMA, discounted
  by the largest recent relative prediction error (as RobustMPC).
- While the buffer is below two segments, the insufficient-buffer rule caps the plan's
  choice, because a wrong prediction there turns straight into a stall.
"""

from __future__ import annotations

from abr.algorithms.robustmpc import RobustMpcAbr
from abr.context import AbrContext
from abr.rules.insufficient_buffer import InsufficientBufferRule


class StreamlabAbr(RobustMpcAbr):
    name = "streamlab"

    def __init__(self, horizon: int = 5, window: int = 5, rebuffer_penalty: float = 4.3) -> None:
        super().__init__(horizon=horizon, window=window, rebuffer_penalty=rebuffer_penalty)
        self._ibr = InsufficientBufferRule()

    def start(self, ctx: AbrContext) -> None:
        super().start(ctx)
        self._ibr = InsufficientBufferRule()

    def choose(self, ctx: AbrContext) -> int:
        prediction = self.predict_kbps(ctx)
        if prediction is None:
            return 0
        if ctx.throughput_kbps is not None:
            prediction = min(prediction, ctx.throughput_kbps)
        quality = self.plan(ctx, prediction, max(ctx.latency_s, self._predictor.latency_s))
        if ctx.buffer_s < 2.0 * ctx.segment_duration_s:
            quality = self._ibr.cap(ctx, quality, prediction)
        return quality
