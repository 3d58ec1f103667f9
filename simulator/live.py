"""Run one live session on a virtual clock over a trace-shaped link.

The driver of `simulator.run`, for a live channel (`simulator.live_channel`): it carries out
FetchSegment / AbortRequest on the same `TraceLink` and answers RefreshManifest with the
channel's manifest as it stands when the answer arrives, one link latency later (a reload costs
the latency of the trace piece it starts in and no link capacity: a manifest is a few KB beside
the segments). The session joins at the live edge minus the target latency and steers its
playback rate (SetPlaybackRate), which it accounts for itself. The driver refuses, as a bug, any
request for a segment before its availability time. A chunked channel's segment streams as
it is made: the link never carries a chunk before it exists, and the session's throughput
sample counts only the time bytes were arriving (`SegmentDone.transfer_s`). A viewer who
leaves early (`until_s`, as a QA session stops after a fixed time) is accounted up to then, as
the player's stop is. `LiveRequestCosts` adds what real requests cost beyond the trace (off in
the lab; the QA harness measures it to replay real sessions).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from abr.algorithm import AbrAlgorithm
from abr.commands import (
    AbortRequest,
    Command,
    FetchSegment,
    PlaybackEnded,
    RefreshManifest,
    SessionFailed,
)
from abr.config import SessionConfig
from abr.events import BytesReceived, ManifestLoaded, ManifestRefreshed, SegmentDone, Tick
from abr.presentation import Presentation
from abr.qoe import summarize
from abr.session import Session
from simulator.errors import SimulationError
from simulator.link import ProducedTransfer, TraceLink
from simulator.live_channel import LiveChannel, LiveSetup
from simulator.live_qoe import LiveQoeSamples, LiveSummary, live_qoe
from simulator.run import MAX_EVENTS_PER_SEGMENT, SimulationResult
from traces.trace import Trace

EPS = 1e-6


@dataclass(frozen=True, slots=True)
class LiveRequestCosts:
    """Beyond the trace, per request: `overhead_s` on top of the trace's latency before the
    first byte (client, CDN tiers; segments and reloads alike), and with `init_round_trip`
    each rendition's first segment waits one round trip more, for its init segment (a few
    hundred bytes: their transfer is left out)."""

    overhead_s: float = 0.0
    init_round_trip: bool = False


def simulate_live(
    trace: Trace,
    video: Presentation,
    algorithm: AbrAlgorithm,
    setup: LiveSetup,
    config: SessionConfig | None = None,
    *,
    noise: float = 0.0,
    seed: int = 0,
    until_s: float | None = None,
    costs: LiveRequestCosts = LiveRequestCosts(),
) -> SimulationResult:
    """One viewer of `video` published live (`setup`), from joining to the channel's end, or
    to `until_s` seconds after joining when given."""
    channel = LiveChannel(video, setup)
    config = replace(config or SessionConfig(), live_target_latency_s=setup.target_latency_s)
    session = Session(algorithm, config)
    link = TraceLink(trace, noise=noise, seed=seed)
    samples = LiveQoeSamples([], [])
    _drive(session, channel, link, samples, math.inf if until_s is None else until_s, costs)
    metrics = session.metrics()
    summary = summarize(metrics, video)  # the channel's ladder is the description's
    ladder = video.bitrates_kbps
    kbps = [ladder[q] for _, q in metrics.buffered]
    live = LiveSummary(
        latency_mean_s=_or_nan(metrics.live_latency_mean_s),
        latency_p95_s=_or_nan(metrics.live_latency_p95_s),
        rate_change_s=metrics.rate_change_s,
        rate_changes=metrics.rate_changes,
        qoe_live=live_qoe(kbps, metrics.buffered_s, metrics.stalled_s, samples, tuple(ladder)),
    )
    return SimulationResult(summary, metrics, trace.name, live)


def _or_nan(value: float | None) -> float:
    return math.nan if value is None else value


def _drive(
    session: Session,
    channel: LiveChannel,
    link: TraceLink,
    samples: LiveQoeSamples,
    until: float,
    costs: LiveRequestCosts,
) -> None:
    handle, next_wakeup = session.handle, session.next_wakeup
    offset = channel.offset_s
    now = 0.0
    # The download in flight: (request id, first byte at, its chunks on the link, size in bits).
    flight: tuple[int, float, ProducedTransfer, float] | None = None
    told = 0  # chunks of it the session has been told about (chunked channels)
    chunked = channel.chunk_s < channel.segment_s
    reload_at: float | None = None  # when the reload asked for arrives
    overhead = costs.overhead_s
    with_init: set[int] = set()  # renditions whose init segment has been fetched
    chunks = math.ceil(channel.segment_s / channel.chunk_s - 1e-9)
    budget = MAX_EVENTS_PER_SEGMENT * channel.count * chunks + 1000
    commands: list[Command] = handle(ManifestLoaded(0.0, channel.load(0.0), utc_offset_s=offset))
    while True:
        over = False
        for command in commands:
            kind = type(command)
            if kind is FetchSegment:
                assert isinstance(command, FetchSegment)
                number = channel.number_of(command.segment)
                if channel.available_at(number) > now + EPS:
                    raise SimulationError(
                        f"{link.name}: segment {number} requested at t={now:.3f} s, before it "
                        f"is available (t={channel.available_at(number):.3f} s)"
                    )
                first_byte = now + link.latency_at(now) + overhead
                if costs.init_round_trip and command.rendition_index not in with_init:
                    with_init.add(command.rendition_index)
                    first_byte += link.latency_at(now) + overhead
                made_at, bits = channel.chunks(number, command.rendition_index)
                transfer = link.produced_transfer(first_byte, made_at, bits)
                flight = (command.request_id, first_byte, transfer, command.segment.size_bits)
                told = 0
            elif kind is AbortRequest:
                flight = None
            elif kind is RefreshManifest:
                reload_at = now + link.latency_at(now) + overhead
            elif kind is PlaybackEnded or kind is SessionFailed:
                over = True
        if over:
            return
        budget -= 1
        if budget < 0:
            raise SimulationError(
                f"{link.name}: live session did not finish (stuck at t={now:.3f} s)"
            )
        wake = next_wakeup()
        done = flight[2].done_at if flight is not None else math.inf
        # A chunked response: each chunk but the last is news to the session (more to play).
        chunk_at = math.inf
        if chunked and flight is not None and told < len(flight[2].spans) - 1:
            chunk_at = flight[2].spans[told][1]
        due = min(done, chunk_at, math.inf if wake is None else wake)
        if min(due, math.inf if reload_at is None else reload_at) > until:
            if math.isinf(until):
                raise SimulationError(
                    f"{link.name}: live session waits for nothing at t={now:.3f} s"
                )
            handle(Tick(max(until, now)))  # the viewer leaves: account up to now, as a stop does
            return
        if reload_at is not None and reload_at <= due:
            now, reload_at = max(reload_at, now), None
            commands = handle(ManifestRefreshed(now, channel.load(now)))
        elif flight is not None and done <= due:
            request_id, first_byte, transfer, size = flight
            now, flight = transfer.done_at, None
            commands = handle(
                SegmentDone(now, request_id, size / 8.0, first_byte, transfer_s=transfer.busy_s)
            )
            latency = session.live_latency_s
            if latency is not None:
                samples.latency_s.append(latency)
                samples.rate.append(session.playback_rate)
        elif flight is not None and chunk_at <= due:
            now, told = chunk_at, told + 1
            received = flight[2].received_bits(link, now)
            made = min(told * channel.chunk_s, channel.segment_s)
            commands = handle(BytesReceived(now, flight[0], received / 8.0, flight[1], made))
        else:
            assert wake is not None  # else a reload, a chunk or a download was due: handled above
            if flight is not None and wake >= flight[1]:
                now = wake
                received = flight[2].received_bits(link, now)
                media = min(told * channel.chunk_s, channel.segment_s) if chunked else None
                commands = handle(BytesReceived(now, flight[0], received / 8.0, flight[1], media))
            else:
                now = max(wake, now)
                commands = handle(Tick(now))
