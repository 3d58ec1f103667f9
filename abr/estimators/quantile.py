"""Quantiles of the throughput to come, learned: a linear quantile model on scale-free features.

A point predictor says one rate; planning against one rate must then guess how far to trust
it (RobustMPC's largest-error discount, `streamlab`'s buffer-scaled median). This estimator
says instead how the mean link rate over the next `horizon_segments` segments is distributed,
as a few quantiles, so a planner can weigh each outcome by its probability: stall risk comes
from the low tail, and a link whose past is calm gets a narrow spread.

Every feature is a ratio (in log space) to the reference, the level-shift-aware harmonic mean
of the last 5 downloads (`SlidingHarmonicMean`, as `streamlab` predicts), or a count: the model
learnt on a 3G link applies to fibre, and to any ladder. Each quantile is the reference times
exp(intercept + weights . features); the fitted numbers are data (`QuantileModel`), passed in
by the caller: `abr.estimators.quantile_fit.FIT` is the shipped fit (`make train`).
"""

from __future__ import annotations

import itertools
import math
from collections import deque
from dataclasses import dataclass

from abr.estimators.harmonic import SlidingHarmonicMean

FEATURES = (
    "last",  # log(last sample / reference)
    "second",  # the one before
    "third",
    "low",  # log(lowest of the last MEMORY samples / reference)
    "high",  # log(highest of them / reference)
    "spread",  # standard deviation of their logs
    "long",  # log(harmonic mean of the last LONG samples / reference)
    "drop",  # 1 / (1 + downloads since a sample fell below DROP x the reference before it)
    "fresh",  # 1 / samples in the reference's window (just after a level shift: 1)
    "transfer",  # log(last transfer time / segment duration): short transfers measure noisily
    "early",  # 1 / (1 + samples in the session)
)
MEMORY = 8
LONG = 16
DROP = 0.2
CLIP = 5.0  # log ratios beyond e^±5 (150x) say no more than e^±5


@dataclass(frozen=True)
class QuantileModel:
    """A fitted model: for each of `levels`, an intercept followed by one weight per feature.

    `version`, `command` and `corpus_sha256` say how it was made, so a fit can be re-created
    and a changed corpus noticed.
    """

    levels: tuple[float, ...]
    coefficients: tuple[tuple[float, ...], ...]
    horizon_segments: int
    features: tuple[str, ...] = FEATURES
    version: int = 1
    command: str = ""
    corpus_sha256: str = ""

    def __post_init__(self) -> None:
        if self.features != FEATURES:
            raise ValueError(
                f"quantile model: features {list(self.features)} are not this estimator's "
                f"{list(FEATURES)}; re-train it (make train)"
            )
        if not self.levels or list(self.levels) != sorted(self.levels):
            raise ValueError(f"quantile model: levels {self.levels} must be ascending")
        if not all(0.0 < level < 1.0 for level in self.levels):
            raise ValueError(f"quantile model: levels {self.levels} must be within (0, 1)")
        if len(self.coefficients) != len(self.levels) or any(
            len(row) != len(FEATURES) + 1 for row in self.coefficients
        ):
            raise ValueError(
                f"quantile model: need {len(self.levels)} rows of {len(FEATURES) + 1} "
                "coefficients (intercept first)"
            )
        if self.horizon_segments < 1:
            raise ValueError("quantile model: horizon_segments must be at least 1")

    @property
    def weights(self) -> tuple[float, ...]:
        """The probability each quantile stands for: the mass closer to it than to its
        neighbours (levels 0.1, 0.5, 0.9 weigh 0.3, 0.4, 0.3)."""
        levels = self.levels
        edges = [0.0] + [(a + b) / 2 for a, b in itertools.pairwise(levels)] + [1.0]
        return tuple(edges[i + 1] - edges[i] for i in range(len(levels)))


class ThroughputQuantiles:
    """Feed it downloads (`add_sample`); read `quantiles_kbps` (ascending; empty before the
    first sample), the reference `throughput_kbps` and the mean `latency_s`."""

    __slots__ = (
        "_harmonic",
        "_logs",
        "_long_inverse",
        "_longs",
        "_since_drop",
        "_transfer",
        "count",
        "model",
        "quantiles_kbps",
    )

    def __init__(self, model: QuantileModel, window: int = 5, shift_ratio: float = 2.0) -> None:
        self.model = model
        self._harmonic = SlidingHarmonicMean(window, shift_ratio=shift_ratio)
        self._logs: deque[float] = deque(maxlen=MEMORY)
        self._longs: deque[float] = deque(maxlen=LONG)  # 1 / sample
        self._long_inverse = 0.0
        self._since_drop = -1  # no drop seen yet
        self._transfer = 0.0
        self.count = 0
        self.quantiles_kbps: list[float] = []

    @property
    def throughput_kbps(self) -> float | None:
        return self._harmonic.throughput_kbps

    @property
    def latency_s(self) -> float:
        return self._harmonic.latency_s

    def add_sample(
        self, transfer_s: float, throughput_kbps: float, latency_s: float, segment_s: float = 1.0
    ) -> None:
        """One finished download; `segment_s` is its media duration (scales the transfer
        time feature)."""
        sample = max(throughput_kbps, 1e-9)
        before = self._harmonic.throughput_kbps
        if before is not None and sample < DROP * before:
            self._since_drop = 0
        elif self._since_drop >= 0:
            self._since_drop += 1
        self._harmonic.add_sample(transfer_s, sample, latency_s)
        self._logs.append(math.log(sample))
        if len(self._longs) == LONG:
            self._long_inverse -= self._longs[0]
        self._longs.append(1.0 / sample)
        self._long_inverse += 1.0 / sample
        self._transfer = max(transfer_s, 1e-3) / segment_s
        self.count += 1
        self.quantiles_kbps = self._quantiles()

    def features(self) -> list[float]:
        """The model's inputs now, in `FEATURES` order (before the first sample: undefined)."""
        reference = self._harmonic.throughput_kbps
        assert reference is not None, "features before the first sample"
        log_ref = math.log(reference)
        logs = self._logs
        n = len(logs)
        last = _clip(logs[-1] - log_ref)
        second = _clip(logs[-2] - log_ref) if n > 1 else last
        third = _clip(logs[-3] - log_ref) if n > 2 else second
        mean = sum(logs) / n
        spread = math.sqrt(sum((x - mean) ** 2 for x in logs) / n)
        long_mean = len(self._longs) / max(self._long_inverse, 1e-12)
        return [
            last,
            second,
            third,
            _clip(min(logs) - log_ref),
            _clip(max(logs) - log_ref),
            spread,
            _clip(math.log(long_mean) - log_ref),
            1.0 / (1 + self._since_drop) if self._since_drop >= 0 else 0.0,
            1.0 / self._harmonic.samples,
            _clip(math.log(self._transfer)),
            1.0 / (1 + self.count),
        ]

    def _quantiles(self) -> list[float]:
        reference = self._harmonic.throughput_kbps
        assert reference is not None
        x = self.features()
        out = []
        for row in self.model.coefficients:
            z = row[0]
            for w, v in zip(row[1:], x, strict=True):
                z += w * v
            out.append(reference * math.exp(_clip(z)))
        out.sort()  # linear quantiles may cross far from the data; the order is what holds
        return out


def _clip(value: float) -> float:
    return CLIP if value > CLIP else -CLIP if value < -CLIP else value
