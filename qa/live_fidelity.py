"""Sim vs real for live sessions: each real session replayed in the lab's live mode
(`simulator.live.simulate_live`) with its trace, the channel's ladder and the sizes the edge
served, joining at the same segment and leaving after the same time; the differences in
latency (the goal: mean |d latency| <= 0.5 s), rebuffering, start-up and bitrate. Two models,
as for titles: `trace` (the link is the trace alone) and `measured` (`LiveRequestCosts`: the
per-request overhead measured on these sessions, and each rendition's init segment as its own
round trip). Latency is sensitive to start-up: a join that starts playing late holds the excess
for the whole session when it is inside the catch-up dead band (0.3 s at a 6 s target).

The channel's segments are sized right after each session (`probe_channel`): the window then
lists every segment the session played when the DVR is deeper than the session (qa starts its
backend so); a segment no longer listed keeps its announced size (bandwidth x duration), and
the row says how many of the played ones were measured.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import httpx

from abr.presentation import Presentation, Rendition, SegmentRef
from abr.registry import AlgorithmFactory, Profile
from player.api import BackendApi
from player.manifest_loader import load_manifest
from qa.fidelity import link_trace
from qa.session import SessionOutcome
from simulator.live import LiveRequestCosts, simulate_live
from simulator.live_channel import LiveSetup, lead_s

TARGET_LATENCY_ABS_S = 0.5  # mean |d latency mean| over sessions


@dataclass(frozen=True)
class ChannelSizes:
    """The bits the edge serves per segment number, one value per rendition (ladder order)."""

    by_number: Mapping[int, tuple[float, ...]]


@dataclass(frozen=True)
class LiveFidelityRow:
    session: int
    trace: str
    model: str
    real_latency_mean_s: float
    sim_latency_mean_s: float
    real_latency_p95_s: float
    sim_latency_p95_s: float
    real_rebuffer_ratio: float
    sim_rebuffer_ratio: float
    real_startup_s: float
    sim_startup_s: float
    real_bitrate_kbps: float
    sim_bitrate_kbps: float
    sizes_measured: int  # of the segments the real session played
    segments_played: int

    def as_dict(self) -> dict[str, float | int | str]:
        return {
            "session": self.session,
            "trace": self.trace,
            "model": self.model,
            "real_latency_mean_s": self.real_latency_mean_s,
            "sim_latency_mean_s": self.sim_latency_mean_s,
            "d_latency_mean_s": self.sim_latency_mean_s - self.real_latency_mean_s,
            "real_latency_p95_s": self.real_latency_p95_s,
            "sim_latency_p95_s": self.sim_latency_p95_s,
            "d_latency_p95_s": self.sim_latency_p95_s - self.real_latency_p95_s,
            "real_rebuffer_ratio": self.real_rebuffer_ratio,
            "sim_rebuffer_ratio": self.sim_rebuffer_ratio,
            "d_rebuffer_pp": (self.sim_rebuffer_ratio - self.real_rebuffer_ratio) * 100,
            "real_startup_s": self.real_startup_s,
            "sim_startup_s": self.sim_startup_s,
            "real_bitrate_kbps": self.real_bitrate_kbps,
            "sim_bitrate_kbps": self.sim_bitrate_kbps,
            "sizes_measured": f"{self.sizes_measured}/{self.segments_played}",
        }


@dataclass(frozen=True)
class LiveFidelitySummary:
    model: str
    sessions: int
    latency_abs_s: float  # mean over sessions of |sim - real| latency mean
    latency_p95_abs_s: float
    rebuffer_abs_pp: float
    startup_abs_s: float
    bitrate_abs_pct: float

    @property
    def met(self) -> bool:
        return self.latency_abs_s <= TARGET_LATENCY_ABS_S

    def as_dict(self) -> dict[str, float | int | bool | str]:
        return {
            "model": self.model,
            "sessions": self.sessions,
            "latency_abs_s": self.latency_abs_s,
            "latency_p95_abs_s": self.latency_p95_abs_s,
            "rebuffer_abs_pp": self.rebuffer_abs_pp,
            "startup_abs_s": self.startup_abs_s,
            "bitrate_abs_pct": self.bitrate_abs_pct,
            "goal_latency_abs_s": TARGET_LATENCY_ABS_S,
            "met": self.met,
        }


async def probe_channel(api: BackendApi, video_id: str) -> ChannelSizes:
    """HEAD every listed segment of every rendition straight at the edge (not shaped)."""
    manifest_url = (await api.playback_info(video_id)).dash_url
    async with httpx.AsyncClient(timeout=10.0) as client:
        presentation = (await load_manifest(client, manifest_url, time.time)).presentation

        async def bits(url: str | None) -> float:
            assert url is not None
            response = await client.head(url)
            response.raise_for_status()
            return float(response.headers["content-length"]) * 8

        first = presentation.timeline.first_number
        return ChannelSizes(
            {
                first + i: tuple([await bits(r.segments[i].url) for r in presentation.renditions])
                for i in range(presentation.segment_count)
            }
        )


@dataclass(frozen=True)
class LiveReplay:
    """How the run's sessions played: their algorithm and profile, the channel's segment
    duration and the seconds each watched."""

    factory: AlgorithmFactory
    profile: Profile
    segment_s: float
    live_seconds: float


def replay_all(
    outcomes: Sequence[SessionOutcome],
    sizes: Mapping[int, ChannelSizes],
    how: LiveReplay,
    overhead_s: float,
) -> list[LiveFidelityRow]:
    """`replay` under both models for every session whose channel was sized (`sizes` by
    session index); `overhead_s` per request for the `measured` model."""
    models = {
        "trace": LiveRequestCosts(),
        "measured": LiveRequestCosts(overhead_s, init_round_trip=True),
    }
    rows = []
    for outcome in outcomes:
        if outcome.spec.index not in sizes:
            continue
        for name, costs in models.items():
            row = replay(outcome, sizes[outcome.spec.index], how, name, costs)
            if row is not None:
                rows.append(row)
    return rows


def replay(
    outcome: SessionOutcome,
    sizes: ChannelSizes,
    how: LiveReplay,
    model: str,
    costs: LiveRequestCosts,
) -> LiveFidelityRow | None:
    """The session in the lab's live mode under `model` (its request costs); None when it
    played nothing to compare."""
    segment_s, live_seconds, profile = how.segment_s, how.live_seconds, how.profile
    real = outcome.summary
    metrics = outcome.metrics
    if outcome.failed or real is None or metrics is None or outcome.presentation is None:
        return None
    if not metrics.buffered or metrics.live_latency_mean_s is None:
        return None
    ladder = outcome.presentation.renditions
    setup = LiveSetup(profile.session.live_target_s(segment_s), segment_s)
    # The lab's channel joins its viewer at segment `join` of the description: make that the
    # real session's first segment, and run the description on past the viewer's stop.
    lead = lead_s(setup.target_latency_s, segment_s)
    join = math.floor((lead - setup.target_latency_s) / segment_s + 1e-9)
    count = math.ceil((lead + live_seconds) / segment_s) + 2
    base = metrics.buffered[0][0] - join

    def size(number: int, rung: int) -> float:
        measured = sizes.by_number.get(number)
        return measured[rung] if measured else ladder[rung].bandwidth_bps * segment_s

    video = Presentation(
        tuple(
            Rendition(
                r.id,
                r.bandwidth_bps,
                tuple(SegmentRef(f"{r.id}/{k}", size(base + k, q)) for k in range(count)),
            )
            for q, r in enumerate(ladder)
        ),
        (segment_s,) * count,
        source=f"live channel as served to session {outcome.spec.index}",
    )
    trace = link_trace(outcome)
    sim = simulate_live(
        trace, video, how.factory(), setup, profile.session, until_s=live_seconds, costs=costs
    )
    assert sim.live is not None
    played = {number for number, _ in metrics.buffered}
    return LiveFidelityRow(
        outcome.spec.index,
        trace.name,
        model,
        metrics.live_latency_mean_s,
        sim.live.latency_mean_s,
        _or_nan(metrics.live_latency_p95_s),
        sim.live.latency_p95_s,
        real.rebuffer_ratio,
        sim.summary.rebuffer_ratio,
        real.startup_s,
        sim.summary.startup_s,
        real.bitrate_kbps,
        sim.summary.bitrate_kbps,
        sum(n in sizes.by_number for n in played),
        len(played),
    )


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def summarize(rows: Sequence[LiveFidelityRow]) -> list[LiveFidelitySummary]:
    """One summary per model, in the rows' order."""
    return [
        _summary(model, [r for r in rows if r.model == model])
        for model in dict.fromkeys(r.model for r in rows)
    ]


def _summary(model: str, rows: Sequence[LiveFidelityRow]) -> LiveFidelitySummary:
    real_rate = statistics.fmean(r.real_bitrate_kbps for r in rows)
    return LiveFidelitySummary(
        model,
        len(rows),
        statistics.fmean(abs(r.sim_latency_mean_s - r.real_latency_mean_s) for r in rows),
        statistics.fmean(abs(r.sim_latency_p95_s - r.real_latency_p95_s) for r in rows),
        statistics.fmean(abs(r.sim_rebuffer_ratio - r.real_rebuffer_ratio) for r in rows) * 100,
        statistics.fmean(abs(r.sim_startup_s - r.real_startup_s) for r in rows),
        statistics.fmean(abs(r.sim_bitrate_kbps - r.real_bitrate_kbps) for r in rows)
        / real_rate
        * 100
        if real_rate
        else math.nan,
    )
