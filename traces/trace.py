"""A network trace: piecewise-constant bandwidth and per-request latency over time."""

from __future__ import annotations

from dataclasses import InitVar, dataclass, field

import numpy as np

from traces.errors import TraceError

# Upper bounds far beyond any real link, so that every sum and product a simulation forms
# (capacity = duration x bandwidth, over millions of pieces) stays finite: a piece of 1e308 s
# at 1e308 kbit/s would make the link's arithmetic inf and NaN.
MAX_PIECE_S = 1e7  # 116 days: a logger that paused for months is not a trace
MAX_BANDWIDTH_KBPS = 1e9  # 1 Tbit/s
MAX_LATENCY_S = 3600.0
# Over one pass the trace must deliver this much: a link that (nearly) never delivers would
# stall a simulation forever, and its loops' arithmetic (bits / capacity) would overflow.
MIN_CAPACITY_KBIT = 1.0

# What each array holds, for error messages: (name in messages, unit, largest value allowed).
_FIELDS = {
    "durations_s": ("duration", "s", MAX_PIECE_S),
    "bandwidth_kbps": ("bandwidth", "kbps", MAX_BANDWIDTH_KBPS),
    "latency_s": ("latency", "s", MAX_LATENCY_S),
}


@dataclass(frozen=True, eq=False)
class Trace:
    """`durations_s[i]` seconds of `bandwidth_kbps[i]`, with requests paying `latency_s[i]`.

    The arrays are read-only float64 copies, so a trace stays what it was validated as.
    Equality compares the name, set and arrays, not where the trace was loaded from.
    """

    name: str
    set_name: str
    durations_s: np.ndarray = field(repr=False)
    bandwidth_kbps: np.ndarray = field(repr=False)
    latency_s: np.ndarray = field(repr=False)
    path: str | None = None
    # The parsers have already run `find_problem` themselves, to name the line: not twice.
    pieces_checked: InitVar[bool] = False

    def __post_init__(self, pieces_checked: bool) -> None:
        for key in _FIELDS:
            values = np.array(getattr(self, key), dtype=np.float64)
            if values.ndim != 1:
                raise TraceError(f"{key} must be one-dimensional, not {values.shape}", self.path)
            values.flags.writeable = False
            object.__setattr__(self, key, values)
        lengths = {key: len(getattr(self, key)) for key in _FIELDS}
        if len(set(lengths.values())) > 1:
            found = ", ".join(f"{key} {n}" for key, n in lengths.items())
            raise TraceError(f"arrays differ in length ({found})", self.path)
        if lengths["durations_s"] == 0:
            raise TraceError("no pieces", self.path)
        if not pieces_checked:
            problem = find_problem(self.durations_s, self.bandwidth_kbps, self.latency_s)
            if problem is not None:
                raise TraceError(f"piece {problem[0]}: {problem[1]}", self.path)
        if not (self.bandwidth_kbps > 0).any():
            raise TraceError("bandwidth is zero throughout", self.path)
        capacity_kbit = float(np.dot(self.durations_s, self.bandwidth_kbps))
        if capacity_kbit < MIN_CAPACITY_KBIT:
            raise TraceError(
                f"the whole trace delivers {capacity_kbit:.3g} kbit: under the "
                f"{MIN_CAPACITY_KBIT:g} kbit a session needs to make progress",
                self.path,
            )

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

    __hash__ = None  # type: ignore[assignment]  # arrays are not hashable

    @property
    def total_duration_s(self) -> float:
        return float(self.durations_s.sum())

    @property
    def mean_bandwidth_kbps(self) -> float:
        """Time-weighted mean: the average rate over the trace's duration."""
        return float(np.average(self.bandwidth_kbps, weights=self.durations_s))

    def percentile_bandwidth_kbps(self, q: float) -> float:
        """Time-weighted percentile (q in 0..100): the link is below this rate q % of the time."""
        return weighted_percentile(self.bandwidth_kbps, self.durations_s, q)


def find_problem(
    durations_s: np.ndarray, bandwidth_kbps: np.ndarray, latency_s: np.ndarray
) -> tuple[int, str] | None:
    """The first piece that is not a valid trace piece, and why; parsers add the line."""
    first: tuple[int, str] | None = None
    for (label, unit, maximum), values in zip(
        _FIELDS.values(), (durations_s, bandwidth_kbps, latency_s), strict=True
    ):
        bad = ~np.isfinite(values) | (values < 0) | (values > maximum)
        if label == "duration":
            bad |= values == 0
        if bad.any():
            i = int(np.argmax(bad))
            if first is None or i < first[0]:
                first = (i, _describe(label, float(values[i]), unit, maximum))
    return first


def weighted_percentile(values: np.ndarray, weights: np.ndarray, q: float) -> float:
    """The smallest value whose share of the total weight at or below it reaches q %."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, not {q}")
    order = np.argsort(values, kind="stable")
    cumulative = np.cumsum(weights[order])
    i = int(np.searchsorted(cumulative, q / 100.0 * cumulative[-1], side="left"))
    return float(values[order][min(i, len(order) - 1)])


def _describe(label: str, value: float, unit: str, maximum: float) -> str:
    if not np.isfinite(value):
        return f"{label} is {value}"
    if value < 0:
        return f"negative {label} {value:g} {unit}"
    if value > maximum:
        return f"{label} {value:g} {unit} is above the {maximum:g} {unit} allowed"
    return f"{label} is zero"
