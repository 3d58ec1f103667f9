"""`streamlab`, the default: MPC that trusts its prediction as far as the buffer can cover it.

RobustMPC's two costs, measured against the offline optimum on the dev traces, were low
bitrate, not stalls: it divides the prediction by 1 + the *largest* of the last 5 relative
errors even with a full buffer, and its 5-sample window needs several downloads to believe a
step up in throughput (the whole climb is paid at a low rung). So:

- The predictor's window restarts at a level shift: a sample more than `shift_ratio` away
  from the window's harmonic mean (`SlidingHarmonicMean`).
- The prediction is discounted by the *median* recent error (`error_quantile`), scaled by
  how empty the buffer is: an empty buffer takes the whole discount, a full one (which can
  absorb a miss) none. Abandonment is what makes this safe: a download caught by a drop is
  cut short. Without abandonment (the `sabre` profile) nothing undoes an over-estimate, so
  that profile plans against the largest recent error, as RobustMPC does.
- Except after an outage on a slow link: once a download came slower than the lowest
  rendition's bitrate, for the next `outage_memory` downloads, while the prediction is under
  `slow_link_ratio` x the lowest bitrate, the plan takes RobustMPC's full discount (largest
  recent error) whatever the buffer. On a link that slow a full buffer does not cover the
  next outage, and the bitrate the median buys there is paid back in stalls. On a fast link
  (Wi-Fi back from a short drop, a train out of a tunnel) the full buffer does cover it, and
  the drop's own error (tens of times the rate it got) would otherwise pin the plan to the lowest rung
  for five downloads after the link is back.
- The plan looks `horizon` = 8 segments ahead: over 5, climbing a rung rarely repays its
  switch penalty, so MPC sat a rung low on links that could carry more.
- The plan charges each switch `switch_weight` = 4 times its QoE_lin penalty. Every decision
  re-plans on a new, noisy forecast, so a switch the constant-throughput plan calls free is
  often undone a few segments later, and the plan never sees that second switch. On a wide
  ladder (bbb4k: 16 -> 35 Mbit/s in one step) that oscillation cost more than the bitrate it
  bought; on bbb's finer ladder the weight changes little.
- A slow download is abandoned only once, at the rate measured so far, it would outlast the
  buffer (no safety margin): the default margin of half a segment gave up downloads that
  would have arrived in time, wasting what was received and paying the latency again.

Chosen on the even-numbered half of every dev trace set and checked on the odd half
(docs/research.md; `python -m bench.streamlab_tuning` prints the table).
"""

from __future__ import annotations

from mypy_extensions import mypyc_attr

from abr.algorithms.robustmpc import RobustMpcAbr
from abr.context import AbrContext, Decision, DownloadRecord, Progress
from abr.estimators.harmonic import SlidingHarmonicMean
from abr.rules.abandon import abandon_if_late


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class StreamlabAbr(RobustMpcAbr):
    name = "streamlab"

    def __init__(
        self,
        horizon: int = 8,
        window: int = 5,
        shift_ratio: float = 2.0,
        error_quantile: float = 0.5,
        outage_memory: int = 20,
        switch_weight: float = 4.0,
        slow_link_ratio: float | None = 6.0,
    ) -> None:
        if not 0.0 <= error_quantile <= 1.0:
            raise ValueError("error_quantile must be within [0, 1]")
        if slow_link_ratio is not None and slow_link_ratio <= 0:
            raise ValueError("slow_link_ratio must be positive (or None: every link)")
        self.shift_ratio = shift_ratio  # before super().__init__, which builds the predictor
        self.error_quantile = error_quantile
        self.outage_memory = outage_memory
        self.slow_link_ratio = slow_link_ratio  # None: the outage discount at any rate
        self._since_outage = outage_memory  # downloads since the last outage
        super().__init__(horizon=horizon, window=window, switch_weight=switch_weight)

    def new_predictor(self) -> SlidingHarmonicMean:
        return SlidingHarmonicMean(self.window, shift_ratio=self.shift_ratio)

    def start(self, ctx: AbrContext) -> None:
        super().start(ctx)
        self._since_outage = self.outage_memory

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        super().on_download(ctx, record)
        if record.throughput_kbps < ctx.bitrates_kbps[0]:
            self._since_outage = 0
        elif self._since_outage < self.outage_memory:
            self._since_outage += 1

    def predict_kbps(self, ctx: AbrContext) -> float | None:
        prediction = self.raw_prediction(ctx)
        if prediction is None:
            return None
        if self._errors:
            errors = sorted(self._errors)
            if self._since_outage < self.outage_memory and self._slow(ctx, prediction):
                return prediction / (1.0 + errors[-1])
            error = errors[min(len(errors) - 1, int(self.error_quantile * len(errors)))]
            exposure = 1.0 - ctx.buffer_s / ctx.buffer_target_s
            if exposure > 0.0:
                prediction /= 1.0 + exposure * error
        return prediction

    def _slow(self, ctx: AbrContext, prediction_kbps: float) -> bool:
        ratio = self.slow_link_ratio
        return ratio is None or prediction_kbps < ratio * ctx.bitrates_kbps[0]

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> Decision | None:
        return abandon_if_late(ctx, progress, safety_s=0.0)
