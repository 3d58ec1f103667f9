"""RobustMPC (Yin et al., SIGCOMM'15), as evaluated in Pensieve.

Predict throughput as the harmonic mean of the last 5 downloads, discounted by the largest
relative prediction error of the last 5 decisions, then pick the first rendition of the plan
that maximises QoE_lin over the next `horizon` segments (see `mpc_plan`). With `band` set,
the search covers the renditions within `band` of the highest sustainable one, plus the
current one; `band=None` searches every rendition.
"""

from __future__ import annotations

from collections import deque

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.algorithms.mpc_plan import best_first_rendition
from abr.context import AbrContext, Decision, DownloadRecord
from abr.estimators.harmonic import SlidingHarmonicMean


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class RobustMpcAbr(AbrAlgorithm):
    name = "robustmpc"

    def __init__(
        self,
        horizon: int = 5,
        window: int = 5,
        rebuffer_penalty: float = 4.3,
        robust: bool = True,
        band: int | None = 2,
        switch_weight: float = 1.0,
    ) -> None:
        if switch_weight < 0:
            raise ValueError("switch_weight must not be negative")
        self.horizon = horizon
        self.switch_weight = switch_weight
        self.band = band
        self.window = window
        self.rebuffer_penalty = rebuffer_penalty
        self.robust = robust
        self._predictor = self.new_predictor()
        self._errors: deque[float] = deque(maxlen=window)
        self._prediction: float | None = None
        self._mbps: list[float] = []

    def new_predictor(self) -> SlidingHarmonicMean:
        """A fresh throughput predictor for a session."""
        return SlidingHarmonicMean(self.window)

    def start(self, ctx: AbrContext) -> None:
        self._predictor = self.new_predictor()
        self._errors.clear()
        self._prediction = None
        self._mbps = [b / 1000.0 for b in ctx.bitrates_kbps]

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        actual = record.throughput_kbps
        if self._prediction is not None and actual > 0:
            self._errors.append(abs(self._prediction - actual) / actual)
        self._predictor.add_sample(record.done_at - record.first_byte_at, actual, record.latency_s)

    def raw_prediction(self, ctx: AbrContext) -> float | None:
        """The predictor's throughput before any discount, remembered to score its error."""
        prediction = self._predictor.throughput_kbps
        if prediction is None:
            prediction = ctx.throughput_kbps
        self._prediction = prediction
        return prediction

    def predict_kbps(self, ctx: AbrContext) -> float | None:
        """The throughput the plan assumes (after the robustness discount)."""
        prediction = self.raw_prediction(ctx)
        if prediction is None:
            return None
        if self.robust and self._errors:
            prediction /= 1.0 + max(self._errors)
        return prediction

    def choose(self, ctx: AbrContext) -> Decision:
        prediction = self.predict_kbps(ctx)
        if prediction is None:
            return Decision(0, reason="no throughput prediction yet")
        return Decision(
            self.plan(ctx, prediction, self._predictor.latency_s),
            reason=("mpc plan at {:.2f} Mbit/s predicted", prediction / 1000.0),
        )

    def plan(self, ctx: AbrContext, throughput_kbps: float, latency_s: float) -> int:
        start = ctx.segment_index
        end = min(start + self.horizon, ctx.segment_count)
        top = ctx.max_rendition
        last = min(ctx.last_rendition if ctx.last_rendition is not None else 0, top)
        candidates = None
        if self.band is not None:
            # Plans far from both the sustainable rate and the current rendition lose to
            # nearer ones: search the band around them (tests compare with the full search).
            sustainable = 0
            for q in range(top + 1):
                if self._mbps[q] * 1000.0 <= throughput_kbps:
                    sustainable = q
            near = range(sustainable - self.band, sustainable + self.band + 1)
            candidates = sorted({q for q in near if 0 <= q <= top} | {last})
        sizes = ctx.sizes_bits[start:end]
        durations = ctx.segment_durations_s[start:end]
        if ctx.live and len(sizes) < self.horizon:
            # At the live edge the next segments are not listed yet, but they will come: plan
            # over the whole horizon as if they were like the newest one. (Planning over the one
            # or two listed, a switch up never repays its switching cost: `streamlab` stayed on
            # the lowest rung of a live channel with a link for the top one.)
            missing = self.horizon - len(sizes)
            sizes = sizes + [ctx.sizes_bits[-1]] * missing
            durations = durations + [ctx.segment_durations_s[-1]] * missing
        return best_first_rendition(
            sizes,
            durations,
            self._mbps,
            ctx.buffer_s,
            last,
            throughput_kbps * 1000.0,
            latency_s,
            ctx.buffer_target_s,
            top,
            self.rebuffer_penalty,
            candidates,
            self.switch_weight,
        )
