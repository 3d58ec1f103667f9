"""L2A-LL (Learn2Adapt, low latency; Karagkioules et al., MMSys 2020), as dash.js's
`L2ARule` runs it.

Online convex optimisation: a probability vector `w` over the renditions is moved each segment
by a Lagrangian gradient step and projected back onto the simplex; the rendition whose bitrate
is closest to the expected bitrate `w . bitrates` is requested. The multiplier `q` is a virtual
queue of buffer displacement: it grows while the expected bitrate (scaled by the playback
rate, since faster playback needs media faster) exceeds the last measured throughput, shrinks
while it does not, and scales the step, so overshooting is corrected harder than undershooting
is rewarded. Going up is one rung at a time while that rung is sustainable; a choice at or
above the throughput doubles `q` (dash.js's REACT).

Start-up (and after a seek) follows the safe throughput estimate until the buffer reaches
`buffer_target_s` (1.5 s, dash.js's B_target), then learning starts with `w` on the current
rendition.

dash.js divides bitrates in bit/s by a throughput in kbit/s in two places (the multiplier's
update and the one-rung-up test), which makes `q` grow without bound; here both are kbit/s,
as the paper's formulation has it. In VOD the same rule applies (the buffer target is then the
only constraint).
"""

from __future__ import annotations

import math

from mypy_extensions import mypyc_attr

from abr.algorithm import AbrAlgorithm
from abr.context import AbrContext, Decision, DownloadRecord

HORIZON = 4  # steps to convergence
VL = HORIZON**0.99  # cautiousness: the multiplier's floor and offset
ALPHA = max(HORIZON, VL * math.sqrt(HORIZON))  # gradient step size
REACT = 2.0  # the multiplier's boost after choosing at or above the throughput


def project_to_simplex(values: list[float]) -> list[float]:
    """The Euclidean projection of `values` onto the probability simplex (non-negative, sum 1)."""
    ordered = sorted(values, reverse=True)
    total = 0.0
    shift = (sum(values) - 1.0) / len(values)
    for k in range(len(ordered) - 1):
        total += ordered[k]
        candidate = (total - 1.0) / (k + 1)
        if candidate >= ordered[k + 1]:
            shift = candidate
            break
    return [max(v - shift, 0.0) for v in values]


@mypyc_attr(allow_interpreted_subclasses=True)  # researchers subclass these
class L2aAbr(AbrAlgorithm):
    name = "l2a"

    def __init__(self, buffer_target_s: float = 1.5, safety: float = 0.9) -> None:
        if not 0 < buffer_target_s < math.inf:
            raise ValueError(f"l2a: buffer_target_s must be positive, not {buffer_target_s!r}")
        if not 0 < safety <= 1:
            raise ValueError(f"l2a: safety must be in (0, 1], not {safety!r}")
        self.buffer_target_s = buffer_target_s
        self.safety = safety
        self._steady = False
        self._w: list[float] = []
        self._q = 0.0
        self._last_duration_s: float | None = None

    def start(self, ctx: AbrContext) -> None:
        self._restart()

    def on_seek(self, ctx: AbrContext) -> None:
        self._restart()

    def _restart(self) -> None:
        self._steady = False
        self._w = []
        self._q = 0.0
        self._last_duration_s = None

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        if not record.abandoned:
            self._last_duration_s = ctx.segment_durations_s[record.segment_index]

    def choose(self, ctx: AbrContext) -> Decision:
        if self._steady and ctx.downloads:
            return self._learn(ctx)
        return self._start_up(ctx)

    def _start_up(self, ctx: AbrContext) -> Decision:
        tput = ctx.throughput_kbps
        if tput is None:
            return Decision(0, reason="l2a start-up: no throughput estimate yet")
        safe = tput * self.safety
        quality = 0
        for q in range(1, ctx.max_rendition + 1):
            if ctx.bitrates_kbps[q] > safe:
                break
            quality = q
        current = ctx.last_rendition
        if (
            self._last_duration_s is not None
            and current is not None
            and ctx.buffer_s >= self.buffer_target_s
        ):
            # Primed: learn from here, starting sure of the rendition playing now.
            self._steady = True
            self._q = VL
            self._w = [1.0 if q == current else 0.0 for q in range(len(ctx.bitrates_kbps))]
        return Decision(quality, reason=("l2a start-up: safe throughput {:.2f} Mbit/s", safe / 1e3))

    def _learn(self, ctx: AbrContext) -> Decision:
        last = ctx.downloads[-1]
        tput = max(last.throughput_kbps, 1.0)
        bitrates = ctx.bitrates_kbps
        rate = ctx.playback_rate
        step = (self._last_duration_s or ctx.segment_duration_s) / (2 * ALPHA)
        pull = self._q + VL
        moved = []
        for q, prev in enumerate(self._w):
            ratio = rate * bitrates[q] / tput
            # Sustainable renditions gain in proportion to their bitrate, the others lose.
            moved.append(prev + (step if ratio <= 1.0 else -step) * pull * ratio)
        w = project_to_simplex(moved)
        change = 0.0
        expected = 0.0
        for q, weight in enumerate(w):
            expected += weight * bitrates[q]
            change += (weight - self._w[q]) * bitrates[q]
        self._w = w
        v = self._last_duration_s or ctx.segment_duration_s
        self._q = max(0.0, self._q - v + v * rate * (expected + change) / tput)
        quality = min(range(len(bitrates)), key=lambda q: abs(bitrates[q] - expected))
        current = ctx.last_rendition if ctx.last_rendition is not None else 0
        if quality > current + 1 and bitrates[current + 1] <= tput:
            quality = current + 1  # up one rung at a time while it is sustainable
        quality = min(quality, ctx.max_rendition)
        if bitrates[quality] >= tput:
            self._q = REACT * max(VL, self._q)
        return Decision(
            quality,
            reason=("l2a: expected {:.2f} Mbit/s, throughput {:.2f}", expected / 1e3, tput / 1e3),
        )
