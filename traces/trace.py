"""A network trace: piecewise-constant bandwidth and per-request latency over time."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from traces.errors import TraceError


@dataclass(frozen=True, eq=False)
class Trace:
    """`durations_s[i]` seconds of `bandwidth_kbps[i]`, with requests paying `latency_s[i]`."""

    name: str
    set_name: str
    durations_s: np.ndarray = field(repr=False)
    bandwidth_kbps: np.ndarray = field(repr=False)
    latency_s: np.ndarray = field(repr=False)
    path: str | None = None

    def __post_init__(self) -> None:
        arrays = {
            "durations_s": self.durations_s,
            "bandwidth_kbps": self.bandwidth_kbps,
            "latency_s": self.latency_s,
        }
        for key, values in arrays.items():
            object.__setattr__(self, key, np.asarray(values, dtype=np.float64))
        n = len(self.durations_s)
        if n == 0:
            raise TraceError("no samples", self.path)
        if len(self.bandwidth_kbps) != n or len(self.latency_s) != n:
            raise TraceError("durations, bandwidth and latency differ in length", self.path)
        for key in arrays:
            values = getattr(self, key)
            bad = ~np.isfinite(values) | (values < 0)
            if bad.any():
                i = int(np.argmax(bad))
                raise TraceError(f"piece {i}: {key} is {values[i]!r}", self.path)
        if (self.durations_s <= 0).any():
            i = int(np.argmax(self.durations_s <= 0))
            raise TraceError(f"piece {i}: duration is zero", self.path)
        if not (self.bandwidth_kbps > 0).any():
            raise TraceError("bandwidth is zero throughout", self.path)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Trace):
            return NotImplemented
        return (
            self.name == other.name
            and self.set_name == other.set_name
            and np.array_equal(self.durations_s, other.durations_s)
            and np.array_equal(self.bandwidth_kbps, other.bandwidth_kbps)
            and np.array_equal(self.latency_s, other.latency_s)
        )

    __hash__ = None  # type: ignore[assignment]

    @property
    def total_duration_s(self) -> float:
        return float(self.durations_s.sum())

    @property
    def mean_bandwidth_kbps(self) -> float:
        """Time-weighted mean."""
        return float(np.average(self.bandwidth_kbps, weights=self.durations_s))

    def percentile_bandwidth_kbps(self, q: float) -> float:
        """Time-weighted percentile (q in 0..100): the rate the link is below q % of the time."""
        order = np.argsort(self.bandwidth_kbps, kind="stable")
        cumulative = np.cumsum(self.durations_s[order])
        cut = q / 100.0 * cumulative[-1]
        i = min(int(np.searchsorted(cumulative, cut, side="left")), len(order) - 1)
        return float(self.bandwidth_kbps[order][i])
