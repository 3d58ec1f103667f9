"""Quality of experience of one session, in the units and definitions researchers compare.

- startup_s: from session start to the first frame.
- rebuffer_s, stall_count: stall time and count after start-up (start-up is not a stall).
- rebuffer_ratio: rebuffer_s / (played time + rebuffer_s), a fraction.
- bitrate_kbps: duration-weighted mean bitrate of the segments played; switches: rendition
  changes between consecutive segments.
- QoE per segment, Pensieve's definitions (Mao et al., SIGCOMM'17), averaged over segments:
  lin: bitrate (Mbit/s) - 4.3 x rebuffer s - |bitrate change| (Mbit/s);
  log: ln(bitrate / lowest bitrate) - 2.66 x rebuffer s - |change of that|;
  hd:  Pensieve's HD score (1, 2, 3, 12, 15, 20 at 300 ... 4300 kbit/s, interpolated in
       between, clamped outside) - 8 x rebuffer s - |change of that|.
- qoe_lin_startup: lin with the start-up delay charged as stall time (4.3 per second of
  either), as Pensieve's own simulator does (its first segment's download counts as
  rebuffering; the README cites the other definitions); NaN when playback never started. Kept
  beside lin, not in its place: lin as published leaves start-up out.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise

from abr.presentation import Presentation
from abr.session import SessionMetrics

REBUFFER_PENALTY_LIN = 4.3
REBUFFER_PENALTY_LOG = 2.66
REBUFFER_PENALTY_HD = 8.0
HD_POINTS_KBPS = (300.0, 750.0, 1200.0, 1850.0, 2850.0, 4300.0)
HD_SCORES = (1.0, 2.0, 3.0, 12.0, 15.0, 20.0)


@dataclass(frozen=True, slots=True)
class QoeSummary:
    startup_s: float
    rebuffer_ratio: float
    rebuffer_s: float
    stall_count: int
    bitrate_kbps: float
    switches: int
    qoe_lin: float
    qoe_log: float
    qoe_hd: float
    switch_magnitude_kbps: float  # mean |bitrate change| per switch
    segments: int
    abandoned: int
    played_s: float
    wall_s: float
    qoe_lin_startup: float  # last: the CSV and JSON layouts before it stay a prefix

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def hd_score(kbps: float) -> float:
    if kbps <= HD_POINTS_KBPS[0]:
        return HD_SCORES[0]
    if kbps >= HD_POINTS_KBPS[-1]:
        return HD_SCORES[-1]
    i = bisect_right(HD_POINTS_KBPS, kbps)
    x0, x1 = HD_POINTS_KBPS[i - 1], HD_POINTS_KBPS[i]
    y0, y1 = HD_SCORES[i - 1], HD_SCORES[i]
    return y0 + (y1 - y0) * (kbps - x0) / (x1 - x0)


def per_segment_qoe(
    bitrates_kbps: Sequence[float],
    rebuffer_s: float,
    utility: Callable[[float], float],
    penalty: float,
) -> float:
    """Mean over segments of utility - penalty x rebuffer - |utility change|."""
    if not bitrates_kbps:
        return 0.0
    values = [utility(b) for b in bitrates_kbps]
    smoothness = sum(abs(b - a) for a, b in pairwise(values))
    return (sum(values) - penalty * rebuffer_s - smoothness) / len(values)


def summarize(metrics: SessionMetrics, presentation: Presentation) -> QoeSummary:
    rates = presentation.bitrates_kbps
    played = [rates[q] for _, q in metrics.buffered]
    weights = metrics.buffered_s  # by duration, not index: live indices shift with the window
    total_weight = sum(weights)
    mean_kbps = (
        sum(r * w for r, w in zip(played, weights, strict=True)) / total_weight
        if total_weight
        else 0.0
    )
    changes = [abs(b - a) for a, b in pairwise(played) if b != a]
    rebuffer = metrics.stalled_s
    watched = metrics.played_s + rebuffer
    lowest = rates[0]
    wall = (
        metrics.ended_at if metrics.ended_at is not None else metrics.started_at
    ) - metrics.started_at
    return QoeSummary(
        startup_s=metrics.startup_s if metrics.startup_s is not None else math.nan,
        rebuffer_ratio=rebuffer / watched if watched > 0 else 0.0,
        rebuffer_s=rebuffer,
        stall_count=metrics.stall_count,
        bitrate_kbps=mean_kbps,
        switches=len(changes),
        qoe_lin=per_segment_qoe(played, rebuffer, lambda b: b / 1000.0, REBUFFER_PENALTY_LIN),
        qoe_log=per_segment_qoe(
            played, rebuffer, lambda b: math.log(b / lowest), REBUFFER_PENALTY_LOG
        ),
        qoe_hd=per_segment_qoe(played, rebuffer, hd_score, REBUFFER_PENALTY_HD),
        switch_magnitude_kbps=sum(changes) / len(changes) if changes else 0.0,
        segments=len(played),
        abandoned=sum(1 for d in metrics.downloads if d.abandoned),
        played_s=metrics.played_s,
        wall_s=wall,
        qoe_lin_startup=(
            per_segment_qoe(
                played, rebuffer + metrics.startup_s, lambda b: b / 1000.0, REBUFFER_PENALTY_LIN
            )
            if metrics.startup_s is not None
            else math.nan
        ),
    )
