"""`stochasticmpc`: plan for the expected QoE over a learned throughput distribution.

Five rounds of tuning a point predictor (docs/research.md) left the gap to the optimum where
links drop: a smoother of past throughput cannot foresee a drop, and a discount on one
forecast (RobustMPC's largest error, `streamlab`'s buffer-scaled median) charges every link
for the worst one. Here the predictor says how the next segments' mean rate is distributed
(`ThroughputQuantiles`, a linear quantile model fitted offline on a corpus of links,
`bench/train_predictor.py`), and the planner (`scenario_plan`) weighs each quantile by its
probability: a plan that stalls in the low tail pays that stall times its probability, and a
calm link, whose learnt spread is narrow, is not discounted at all.

The plan charges each switch `switch_weight` = 2 times its QoE_lin penalty: every decision
re-plans on a new distribution, so a switch the plan calls free is often undone soon after (as
`streamlab` charges 4x). The weight must stay well under the horizon's later segments (4): at
4, holding any rung beats climbing to the next, and the training half fell from 53 % of the
gap closed to 38 % (docs/research.md, sixth round).

Kept from `streamlab`: the level-shift restart of the harmonic reference the model's features
are relative to, and abandoning a download only once it would outlast the buffer.
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.algorithms.scenario_plan import best_first_rendition
from abr.context import AbrContext, Decision, DownloadRecord, Progress
from abr.estimators.quantile import QuantileModel, ThroughputQuantiles
from abr.estimators.quantile_fit import FIT
from abr.rules.abandon import abandon_if_late


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class StochasticMpcAbr(AbrAlgorithm):
    name = "stochasticmpc"

    def __init__(
        self,
        model: QuantileModel = FIT,
        horizon: int = 5,
        rebuffer_penalty: float = 4.3,
        switch_weight: float = 2.0,
        band: int = 2,
    ) -> None:
        if horizon < 1:
            raise ValueError("horizon must be at least 1 segment")
        if switch_weight < 0:
            raise ValueError("switch_weight must not be negative")
        self.model = model
        self.horizon = horizon
        self.rebuffer_penalty = rebuffer_penalty
        self.switch_weight = switch_weight
        self.band = band
        self._probabilities = list(model.weights)
        self._estimator = ThroughputQuantiles(model)
        self._mbps: list[float] = []

    def start(self, ctx: AbrContext) -> None:
        self._estimator = ThroughputQuantiles(self.model)
        self._mbps = [b / 1000.0 for b in ctx.bitrates_kbps]

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        segment_s = ctx.segment_durations_s[record.segment_index]
        self._estimator.add_sample(
            record.done_at - record.first_byte_at,
            record.throughput_kbps,
            record.latency_s,
            segment_s,
        )

    def choose(self, ctx: AbrContext) -> Decision:
        quantiles = self._estimator.quantiles_kbps
        if not quantiles:
            return Decision(0, reason="no throughput distribution yet")
        return Decision(
            self.plan(ctx, quantiles),
            reason=(
                "expected QoE over {:.2f}-{:.2f} Mbit/s",
                quantiles[0] / 1000.0,
                quantiles[-1] / 1000.0,
            ),
        )

    def plan(self, ctx: AbrContext, quantiles_kbps: list[float]) -> int:
        i = ctx.segment_index
        sizes = ctx.sizes_bits
        durations = ctx.segment_durations_s
        end = min(i + self.horizon, ctx.segment_count)
        rows = sizes[i + 1 : end]
        rest_durations = durations[i + 1 : end]
        if ctx.live and i + self.horizon > ctx.segment_count:
            # At the live edge the next segments are not listed yet but will come (as in
            # RobustMpcAbr.plan): plan as if they were like the newest one.
            missing = self.horizon - 1 - len(rows)
            rows = rows + [sizes[-1]] * missing
            rest_durations = rest_durations + [durations[-1]] * missing
        top = ctx.max_rendition
        rest_bits = [0.0] * (top + 1)
        for row in rows:
            rest_bits = [a + row[q] for q, a in enumerate(rest_bits)]
        first_s = durations[i]
        room_s = ctx.buffer_target_s - (rest_durations[0] if rest_durations else first_s)
        rates_bps = [k * 1000.0 for k in quantiles_kbps]
        first_bits = sizes[i][: top + 1]
        last = min(ctx.last_rendition if ctx.last_rendition is not None else 0, top)
        candidates = self._candidates(first_bits, first_s, rates_bps, last, top)
        return best_first_rendition(
            rates_bps,
            self._probabilities,
            first_bits,
            rest_bits,
            len(rows),
            first_s,
            sum(rest_durations) - rest_durations[-1] if rest_durations else 0.0,
            room_s,
            self._mbps,
            ctx.buffer_s,
            last,
            self._estimator.latency_s,
            candidates,
            self.rebuffer_penalty,
            self.switch_weight,
        )

    def _candidates(
        self, first_bits: list[float], first_s: float, rates_bps: list[float], last: int, top: int
    ) -> list[int]:
        """The renditions within `band` of the one the median rate sustains, the one the lowest
        quantile sustains, and the current one: plans far from all three lose to nearer ones."""
        median = rates_bps[len(rates_bps) // 2]
        low = rates_bps[0]
        sustained = sustained_low = 0
        for q in range(1, top + 1):
            if first_bits[q] > median * first_s:
                break
            sustained = q
            if first_bits[q] <= low * first_s:
                sustained_low = q
        near = range(max(0, sustained - self.band), min(top, sustained + self.band) + 1)
        return sorted({*near, sustained_low, last})

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> Decision | None:
        return abandon_if_late(ctx, progress, safety_s=0.0)
