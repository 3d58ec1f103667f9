"""The live QoE of the MMSys 2020 Twitch grand challenge ("NQoE", Bentaleb et al.'s weights as
dash.js's LoL+ QoE evaluator sets them, last updated 30 Mar 2020), per session:

    sum over segments n of  d_n x R_n                      (bitrate reward, R in kbit/s,
                                                            d_n the segment's duration in s)
                          - R_max x E_n                    (rebuffering, E_n in s)
                          - w(L_n) x L_n                   (latency L_n in s; w = 0.05 x R_min
                                                            when L_n <= 1.1 s, else 0.1 x R_max)
                          - R_min x |1 - P_n|              (playback speed P_n)
                          - |R_n - R_(n-1)|                (switches)

Like dash.js, latency and playback speed are sampled as each segment arrives; the rebuffer
terms add up to R_max x the session's stall time.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

LOW_LATENCY_S = 1.1  # up to here, latency costs 0.05 x the lowest bitrate per s
LOW_LATENCY_WEIGHT = 0.05  # x R_min
HIGH_LATENCY_WEIGHT = 0.1  # x R_max


@dataclass(slots=True)
class LiveQoeSamples:
    """(latency s, playback rate) as each segment arrived."""

    latency_s: list[float]
    rate: list[float]


def live_qoe(
    played_kbps: list[float],
    played_s: list[float],
    rebuffer_s: float,
    samples: LiveQoeSamples,
    ladder_kbps: tuple[float, ...],
) -> float:
    """The grand challenge's NQoE of one session (see the module docstring)."""
    low, high = ladder_kbps[0], ladder_kbps[-1]
    bitrate = sum(r * d for r, d in zip(played_kbps, played_s, strict=True))
    switching = sum(abs(b - a) for a, b in pairwise(played_kbps))
    latency = sum(latency_penalty(value, low, high) for value in samples.latency_s)
    speed = low * sum(abs(1.0 - p) for p in samples.rate)
    return bitrate - high * rebuffer_s - latency - speed - switching


def latency_penalty(latency_s: float, low_kbps: float, high_kbps: float) -> float:
    """One latency sample's cost, w(L) x L: it never falls as latency grows (the weight jumps
    up at 1.1 s), which `simulator.live_optimal` relies on."""
    weight = (
        LOW_LATENCY_WEIGHT * low_kbps
        if latency_s <= LOW_LATENCY_S
        else HIGH_LATENCY_WEIGHT * high_kbps
    )
    return weight * latency_s


@dataclass(frozen=True, slots=True)
class LiveSummary:
    """What a live session adds to the QoE summary (the CSV's live columns)."""

    latency_mean_s: float  # time-weighted while playing (`SessionMetrics.live_latency_mean_s`)
    latency_p95_s: float
    rate_change_s: float  # seconds played at a rate other than 1
    rate_changes: int
    qoe_live: float  # `live_qoe`

    def as_dict(self) -> dict[str, float | int]:
        return {
            "latency_mean_s": self.latency_mean_s,
            "latency_p95_s": self.latency_p95_s,
            "rate_change_s": self.rate_change_s,
            "rate_changes": self.rate_changes,
            "qoe_live": self.qoe_live,
        }
