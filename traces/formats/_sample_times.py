"""Pieces from sample times, for formats that log a rate at each time rather than durations."""

from __future__ import annotations

import numpy as np

from traces.errors import TraceError


def durations_from_times(
    times_s: np.ndarray, lines: list[int], path: str | None, shown: list[str] | None = None
) -> np.ndarray:
    """Sample i holds from its time to the next sample's; the last lasts the median gap.

    `shown[i]` is how the file wrote time i (for messages; default: the seconds)."""
    text = shown if shown is not None else [f"{t:g}" for t in times_s.tolist()]
    bad = ~np.isfinite(times_s)
    if bad.any():
        i = int(np.argmax(bad))
        raise TraceError(f"time is {text[i]}", path, lines[i])
    with np.errstate(over="ignore"):  # times of +-1e308: an infinite gap, refused below
        gaps = np.diff(times_s)
    if (gaps <= 0).any():
        i = int(np.argmax(gaps <= 0)) + 1
        raise TraceError(
            f"time {text[i]} does not increase (previous {text[i - 1]})", path, lines[i]
        )
    last = float(np.median(gaps)) if len(gaps) else 1.0
    return np.append(gaps, last)
