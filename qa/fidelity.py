"""Sim vs real: each real session replayed in the simulator with the same trace, title and
ABR, and the differences in QoE_lin, rebuffer ratio, start-up and bitrate.

Two simulator models are compared with the real sessions: `trace` (the lab's default: the
trace alone, segment sizes as the manifest announces them) and `measured` (`RequestModel`:
the bytes the edge actually serves, and the per-request overhead measured on these real
sessions). The report shows both, so what the terms buy is visible.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

import httpx
import numpy as np

from abr.qoe import QoeSummary
from abr.registry import AlgorithmFactory, Profile
from player.manifest_loader import load_manifest
from qa.session import SessionOutcome
from simulator.link import RequestModel
from simulator.run import simulate
from traces.trace import Trace

TARGET_QOE_PCT = 5.0  # mean |dQoE_lin| as a share of the mean real |QoE_lin|
TARGET_REBUFFER_PP = 0.2  # mean |d rebuffer ratio| in percentage points


@dataclass(frozen=True)
class Sizes:
    """What the edge really serves for one title, in bits: [segment][rendition]."""

    segments: tuple[tuple[float, ...], ...]


@dataclass(frozen=True)
class FidelityRow:
    session: int
    trace: str
    model: str
    real: QoeSummary
    sim: QoeSummary

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "session": self.session,
            "trace": self.trace,
            "model": self.model,
            "real_qoe_lin": self.real.qoe_lin,
            "sim_qoe_lin": self.sim.qoe_lin,
            "d_qoe_lin": self.sim.qoe_lin - self.real.qoe_lin,
            "real_rebuffer_ratio": self.real.rebuffer_ratio,
            "sim_rebuffer_ratio": self.sim.rebuffer_ratio,
            "d_rebuffer_pp": (self.sim.rebuffer_ratio - self.real.rebuffer_ratio) * 100,
            "real_startup_s": self.real.startup_s,
            "sim_startup_s": self.sim.startup_s,
            "d_startup_s": self.sim.startup_s - self.real.startup_s,
            "real_bitrate_kbps": self.real.bitrate_kbps,
            "sim_bitrate_kbps": self.sim.bitrate_kbps,
            "d_bitrate_kbps": self.sim.bitrate_kbps - self.real.bitrate_kbps,
        }


@dataclass(frozen=True)
class FidelitySummary:
    model: str
    sessions: int
    qoe_abs_pct: float  # mean |dQoE_lin| / mean |real QoE_lin|, %
    rebuffer_abs_pp: float
    startup_abs_s: float
    bitrate_abs_pct: float

    @property
    def met(self) -> bool:
        return self.qoe_abs_pct <= TARGET_QOE_PCT and self.rebuffer_abs_pp <= TARGET_REBUFFER_PP


async def probe_sizes(manifest_url: str) -> Sizes:
    """HEAD every segment straight at the edge (not shaped): the sizes it serves. Done after
    the real sessions, so it cannot warm a cache they read."""
    async with httpx.AsyncClient(timeout=10.0) as client:
        presentation = (await load_manifest(client, manifest_url)).presentation

        async def bits(url: str | None) -> float:
            assert url is not None
            response = await client.head(url)
            response.raise_for_status()
            return float(response.headers["content-length"]) * 8

        segments = [
            tuple([await bits(r.segments[i].url) for r in presentation.renditions])
            for i in range(presentation.segment_count)
        ]
    return Sizes(tuple(segments))


def link_trace(outcome: SessionOutcome) -> Trace:
    """The trace as the session's time 0 found it: the shaped link started with the
    manifest request, the session once the manifest was in."""
    trace = outcome.spec.trace
    offset = outcome.session_origin - (outcome.link_opened or outcome.session_origin)
    return rotate(trace, offset)


def rotate(trace: Trace, offset_s: float) -> Trace:
    """The same looping trace, starting `offset_s` into it."""
    offset = offset_s % trace.total_duration_s
    if offset <= 0:
        return trace
    ends = np.cumsum(trace.durations_s)
    starts = ends - trace.durations_s
    after = ends - np.maximum(starts, offset)  # the part of each piece after the offset
    before = np.minimum(ends, offset) - starts  # and before it, played after the end
    durations = np.concatenate((after, before))
    keep = durations > 1e-12
    return Trace(
        trace.name,
        trace.set_name,
        durations[keep],
        np.tile(trace.bandwidth_kbps, 2)[keep],
        np.tile(trace.latency_s, 2)[keep],
        trace.path,
    )


def measured_overhead_s(outcomes: Sequence[SessionOutcome]) -> float:
    """Median of (first byte - request) minus the trace's latency over the real downloads,
    leaving out each rendition's first (its init segment's request is folded into it)."""
    extra = []
    for outcome in outcomes:
        if outcome.metrics is None:
            continue
        trace = link_trace(outcome)
        seen: set[int] = set()
        for d in outcome.metrics.downloads:
            first_of_rendition = d.rendition_index not in seen
            seen.add(d.rendition_index)
            if first_of_rendition or d.abandoned:
                continue  # the init segment's request is folded into this latency
            extra.append(d.latency_s - _latency_at(trace, d.requested_at))
    return max(statistics.median(extra), 0.0) if extra else 0.0


def _latency_at(trace: Trace, t: float) -> float:
    offset = t % trace.total_duration_s
    starts = np.concatenate(([0.0], np.cumsum(trace.durations_s)[:-1]))
    return float(trace.latency_s[int(np.searchsorted(starts, offset, side="right") - 1)])


def compare(
    outcomes: Sequence[SessionOutcome],
    sizes: dict[str, Sizes],
    factory: AlgorithmFactory,
    profile: Profile,
    overhead_s: float,
) -> list[FidelityRow]:
    rows = []
    for outcome in outcomes:
        if outcome.failed or outcome.summary is None or outcome.presentation is None:
            continue
        trace = link_trace(outcome)
        size = sizes[outcome.spec.video_id]
        models: dict[str, RequestModel | None] = {
            "trace": None,
            "measured": RequestModel(overhead_s, size.segments),
        }
        for name, model in models.items():
            sim = simulate(
                trace, outcome.presentation, factory(), profile.session, requests=model
            ).summary
            rows.append(FidelityRow(outcome.spec.index, trace.name, name, outcome.summary, sim))
    return rows


def summarize(rows: Sequence[FidelityRow]) -> list[FidelitySummary]:
    out = []
    for model in dict.fromkeys(r.model for r in rows):
        mine = [r for r in rows if r.model == model]
        real_qoe = statistics.fmean(abs(r.real.qoe_lin) for r in mine)
        real_rate = statistics.fmean(r.real.bitrate_kbps for r in mine)
        out.append(
            FidelitySummary(
                model,
                len(mine),
                statistics.fmean(abs(r.sim.qoe_lin - r.real.qoe_lin) for r in mine) / real_qoe * 100
                if real_qoe
                else math.nan,
                statistics.fmean(abs(r.sim.rebuffer_ratio - r.real.rebuffer_ratio) for r in mine)
                * 100,
                statistics.fmean(abs(r.sim.startup_s - r.real.startup_s) for r in mine),
                statistics.fmean(abs(r.sim.bitrate_kbps - r.real.bitrate_kbps) for r in mine)
                / real_rate
                * 100
                if real_rate
                else math.nan,
            )
        )
    return out
