"""Pieces from sample times, for formats that log a rate at each time rather than durations."""

from __future__ import annotations

import numpy as np

from traces.errors import TraceError


def durations_from_times(times_s: np.ndarray, lines: list[int], path: str | None) -> np.ndarray:
    """Sample i holds from its time to the next sample's; the last lasts the median gap."""
    bad = ~np.isfinite(times_s)
    if bad.any():
        i = int(np.argmax(bad))
        raise TraceError(f"time is {times_s[i]}", path, lines[i])
    gaps = np.diff(times_s)
    if (gaps <= 0).any():
        i = int(np.argmax(gaps <= 0)) + 1
        raise TraceError(
            f"time {times_s[i]:g} does not increase (previous {times_s[i - 1]:g})", path, lines[i]
        )
    last = float(np.median(gaps)) if len(gaps) else 1.0
    return np.append(gaps, last)
