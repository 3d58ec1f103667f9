"""The streaming session: the one object every driver feeds (player, emulator, simulator).

Feed it events (`abr.events`) stamped with your clock; carry out the commands it returns
(`abr.commands`). Call `next_wakeup()` after each event and send a `Tick` at that time if
nothing else happens first. The session never reads a clock, opens a socket or touches a
file, so the simulator's virtual clock and the player's wall clock drive the same logic.

It owns: start-up (first segment, when playback starts), the look-ahead buffer (when the
next request may go), which segment and rendition come next (asking the ABR algorithm),
abandonment of late downloads, stall detection and recovery, retries with back-off, seeks
and the end of the stream. Buffer accounting is analytical: between events the playhead
advances at 1x while media is buffered, so a stall is placed at the exact time the buffer
ran dry even when no event fell on it.

Phases (`TRANSITIONS`; the phase changes only in `Session._enter`, which checks it):
    IDLE --ManifestLoaded--> STARTING --enough buffered--> PLAYING
    IDLE --ManifestLoaded (unindexed)--> INDEXING --every index loaded--> STARTING
    PLAYING --buffer empty--> STALLED --enough buffered--> PLAYING
    PLAYING --last segment played--> ENDED
    any but IDLE, FAILED --Seek outside the buffer--> STARTING
    INDEXING, STARTING, PLAYING, STALLED --retries exhausted--> FAILED

An unindexed presentation (DASH SegmentBase) has no segments until each rendition's sidx is
read: in INDEXING the session asks for them with FetchIndex (see `abr.indexing`), the driver
answers with IndexLoaded or SegmentFailed, and viewer events that arrive meanwhile (pause,
seek, a quality cap) are held and applied once the presentation is built.

What holds the next request back is one value, `Session.waiting` (a `Waiting`): a download in
flight, a full buffer, the algorithm's pacing, a retry's back-off, or a deferred decision.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, NamedTuple

from abr.algorithm import AbrAlgorithm
from abr.commands import (
    AbortRequest,
    Command,
    FetchSegment,
    FlushBuffer,
    PlaybackEnded,
    SessionFailed,
    StallEnded,
    StallStarted,
    StartPlayback,
)
from abr.config import SessionConfig
from abr.context import AbrContext, Decision, DownloadRecord, Progress, Why
from abr.errors import SessionError
from abr.estimators.ewma import DualEwma
from abr.events import (
    BytesReceived,
    ClockSynced,
    Event,
    GoLive,
    IndexLoaded,
    ManifestLoaded,
    ManifestRefreshed,
    Pause,
    PlaybackPosition,
    QualityCapChanged,
    RefreshFailed,
    Resume,
    Seek,
    SegmentDone,
    SegmentFailed,
    Tick,
)
from abr.indexing import IndexLoader
from abr.manifests import ManifestError
from abr.presentation import Presentation
from abr.values import distinct

EPS = 1e-9


class Phase(Enum):
    IDLE = "idle"
    INDEXING = "indexing"
    STARTING = "starting"
    PLAYING = "playing"
    STALLED = "stalled"
    ENDED = "ended"
    FAILED = "failed"


TRANSITIONS: dict[Phase, frozenset[Phase]] = {
    Phase.IDLE: frozenset({Phase.STARTING, Phase.INDEXING}),
    Phase.INDEXING: frozenset({Phase.STARTING, Phase.FAILED}),
    Phase.STARTING: frozenset({Phase.STARTING, Phase.PLAYING, Phase.FAILED}),
    Phase.PLAYING: frozenset({Phase.STARTING, Phase.STALLED, Phase.ENDED, Phase.FAILED}),
    Phase.STALLED: frozenset({Phase.STARTING, Phase.PLAYING, Phase.FAILED}),
    Phase.ENDED: frozenset({Phase.STARTING}),
    Phase.FAILED: frozenset(),
}


class WaitKind(Enum):
    DOWNLOAD = "download"  # a request is in flight
    ROOM = "room"  # the buffer is full: the next segment does not fit yet
    PACING = "pacing"  # the algorithm decided, and asked to request later (`Decision.delay_s`)
    BACKOFF = "backoff"  # a failed request is retried later
    DECISION = "decision"  # the algorithm deferred its choice (`choose` returned None)
    READY = "ready"  # nothing: the next event that finds room issues the request
    # Live: the next segment is listed but not available before `until` (its availability time).
    AVAILABILITY = "availability"
    # Live: every listed segment is fetched; the next comes with a manifest refresh.
    LIVE_EDGE = "live_edge"
    NOTHING = "nothing"  # no request is to come: every segment fetched, or the session over


@distinct
class Waiting(NamedTuple):
    """What the session's next request waits for (`Session.waiting`).

    `until`: when the session wants a `Tick` for it (None: only another event will do; for
    DECISION, whatever tells the algorithm its answer). A choice already made for the next
    request (after pacing or an abandonment) rides along in `decided`.
    """

    kind: WaitKind
    until: float | None = None
    request_id: int | None = None  # DOWNLOAD: the request in flight
    since: float | None = None  # ROOM: when the buffer filled (`on_idle` gets the wait)
    decided: Decision | None = None


# The waits that carry nothing but their kind: built once, not on every request.
READY = Waiting(WaitKind.READY)
NOTHING = Waiting(WaitKind.NOTHING)
DECISION_PENDING = Waiting(WaitKind.DECISION)


@dataclass(slots=True)
class _Request:
    id: int
    segment_index: int
    rendition_index: int
    size_bits: float
    requested_at: float
    buffer_before_s: float
    next_check_at: float
    reason: Why
    first_byte_at: float | None = None
    received_bits: float | None = None  # as of the driver's last BytesReceived


@dataclass(slots=True)
class SessionMetrics:
    """Time accounting of one session: startup + played + stalled + paused + seeking = wall."""

    started_at: float
    ended_at: float | None
    startup_s: float | None
    played_s: float
    stalled_s: float
    stall_count: int
    paused_s: float
    seeking_s: float
    # Segments that reached the buffer, in order, as (segment index, rendition index).
    buffered: list[tuple[int, int]] = field(default_factory=list)
    downloads: list[DownloadRecord] = field(default_factory=list)
    failed_reason: str | None = None
    # Live only (None / 0 for VOD). Latency as `Session.live_latency_s` defines it, weighted by
    # the time it held between consecutive events while playing (sampled at events: between two
    # events it changes only with the playback rate, linearly): its mean and 95th percentile.
    live_latency_mean_s: float | None = None
    live_latency_p95_s: float | None = None
    rate_change_s: float = 0.0  # seconds played at a rate other than 1
    rate_changes: int = 0  # SetPlaybackRate commands issued


class Session:
    def __init__(self, algorithm: AbrAlgorithm, config: SessionConfig | None = None) -> None:
        self.algorithm = algorithm
        self.config = config or SessionConfig()
        self._phase = Phase.IDLE
        self._ctx: AbrContext | None = None
        self._handlers: dict[type[Any], Callable[[Any], None]] = {
            ManifestLoaded: self._on_manifest,
            Tick: self._on_tick,
            BytesReceived: self._on_bytes,
            SegmentDone: self._on_done,
            SegmentFailed: self._on_failed,
            PlaybackPosition: self._on_position,
            Seek: self._on_seek,
            Pause: self._on_pause,
            Resume: self._on_resume,
            QualityCapChanged: self._on_cap,
            ClockSynced: self._live_not_yet,
            ManifestRefreshed: self._live_not_yet,
            RefreshFailed: self._live_not_yet,
            GoLive: self._live_not_yet,
        }
        self._out: list[Command] = []
        self._clock = 0.0
        self._started_at = 0.0
        self._position = 0.0
        self._buffered_until = 0.0
        self._next_index = 0
        self._paused = False
        self._request: _Request | None = None
        self._request_ids = 0
        self._wait = READY  # while no request is in flight: what the next one waits for
        # For algorithms that return a bare index: the log still says who chose.
        self._default_reason = f"{algorithm.name}: no reason given"
        self._cap_rendition: int | None = None  # after a failure: not above this
        self._replaces: int | None = None
        self._retries = 0
        self._stall_started_at = 0.0
        self._stall_since_download = 0.0
        self._startup_s: float | None = None
        self._played_s = 0.0
        self._stalled_s = 0.0
        self._stall_count = 0
        self._paused_s = 0.0
        self._seeking_s = 0.0
        self._ended_at: float | None = None
        self._failed_reason: str | None = None
        self._buffered: list[tuple[int, int]] = []
        self._estimator = DualEwma(self.config.ewma_half_lives_s)
        self._target_s = 0.0
        self._startup_need_s = 0.0
        self._resume_need_s = 0.0
        self._indexing: IndexLoader | None = None
        self._held: list[Event] = []  # viewer events that came while indexing
        self._start_position = 0.0

    # -- driver API -----------------------------------------------------------------

    def handle(self, event: Event) -> list[Command]:
        """Feed one event; returns the commands to carry out, in order."""
        handler = self._handlers.get(type(event))
        if handler is None and type(event) is not IndexLoaded:
            raise SessionError(f"unknown event {type(event).__name__}")
        if self._indexing is not None:
            self._while_indexing(event)
        elif handler is None:
            raise SessionError("IndexLoaded, but no index was asked for")
        elif self._ctx is None and type(event) is not ManifestLoaded:
            raise SessionError(f"{type(event).__name__} before ManifestLoaded")
        else:
            handler(event)
        out, self._out = self._out, []
        return out

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def waiting(self) -> Waiting:
        """What the next request waits for; DOWNLOAD's `until` is its next abandonment check."""
        request = self._request
        if request is None:
            return self._wait
        check = request.next_check_at if self.config.abandonment else None
        return Waiting(WaitKind.DOWNLOAD, check, request_id=request.id)

    def next_wakeup(self) -> float | None:
        """When the session needs a `Tick` at the latest (None: only events will do)."""
        phase = self._phase
        if phase is Phase.ENDED or phase is Phase.FAILED or phase is Phase.IDLE:
            return None
        if self._indexing is not None:
            return self._indexing.next_wakeup()
        wake: float | None = None
        request = self._request
        if request is not None:
            if self.config.abandonment:
                wake = request.next_check_at
        else:
            wake = self._wait.until
        if phase is Phase.PLAYING and not self._paused:
            empty_at = self._clock + self._buffered_until - self._position
            if wake is None or empty_at < wake:
                wake = empty_at
        return wake

    @property
    def context(self) -> AbrContext:
        if self._ctx is None:
            raise SessionError("no manifest loaded yet")
        return self._ctx

    @property
    def buffer_s(self) -> float:
        return self._buffered_until - self._position

    @property
    def position_s(self) -> float:
        return self._position

    @property
    def throughput_kbps(self) -> float | None:
        return self._estimator.throughput_kbps

    def metrics(self) -> SessionMetrics:
        """Also after a session that failed before its presentation was indexed."""
        return SessionMetrics(
            started_at=self._started_at,
            ended_at=self._ended_at,
            startup_s=self._startup_s,
            played_s=self._played_s,
            stalled_s=self._stalled_s,
            stall_count=self._stall_count,
            paused_s=self._paused_s,
            seeking_s=self._seeking_s,
            buffered=list(self._buffered),
            downloads=self._ctx.downloads if self._ctx is not None else [],
            failed_reason=self._failed_reason,
        )

    def _enter(self, phase: Phase) -> None:
        """The one place the phase changes: a change `TRANSITIONS` does not list is a bug here."""
        if phase not in TRANSITIONS[self._phase]:
            raise SessionError(f"illegal phase change {self._phase.name} -> {phase.name}")
        self._phase = phase
        if phase is Phase.ENDED or phase is Phase.FAILED:
            self._wait = NOTHING

    # -- time -----------------------------------------------------------------------

    def _advance(self, now: float) -> None:
        """Move the playhead and the time accounts from the last event to `now`."""
        dt = now - self._clock
        if dt < 0:
            if dt < -1e-6:
                raise SessionError(f"time went backwards: {now} after {self._clock}")
            return
        phase = self._phase
        initial_startup = phase is Phase.STARTING and self._startup_s is None
        if self._paused and not initial_startup:
            self._paused_s += dt
        elif phase is Phase.PLAYING:
            available = self._buffered_until - self._position
            # Within a nanosecond of empty counts as empty: float sums of times stop moving.
            if dt + EPS < available:
                self._position += dt
                self._played_s += dt
            else:
                self._position = self._buffered_until
                self._played_s += available
                empty_at = self._clock + available
                if self._next_index >= self.context.segment_count and self._request is None:
                    self._enter(Phase.ENDED)
                    self._ended_at = empty_at
                    self._out.append(PlaybackEnded(empty_at))
                else:
                    self._enter(Phase.STALLED)
                    self._stall_count += 1
                    self._stall_started_at = empty_at
                    stalled = max(dt - available, 0.0)
                    self._stalled_s += stalled
                    self._stall_since_download += stalled
                    self._out.append(StallStarted(empty_at, self._position))
        elif phase is Phase.STALLED:
            self._stalled_s += dt
            self._stall_since_download += dt
        elif phase is Phase.STARTING and self._startup_s is not None:
            self._seeking_s += dt
        self._clock = now

    # -- event handlers ---------------------------------------------------------------

    def _live_not_yet(self, event: Event) -> None:
        raise SessionError(f"{type(event).__name__}: live mode not implemented yet")

    def _on_manifest(self, event: ManifestLoaded) -> None:
        if self._phase is not Phase.IDLE:
            raise SessionError("ManifestLoaded twice: start a new Session for a new presentation")
        if event.presentation.timeline.live:
            raise SessionError("a live presentation: live mode not implemented yet")
        self._clock = self._started_at = event.now
        if event.presentation.is_indexed:
            self._begin(event.now, event.presentation, event.start_position_s)
            return
        self._start_position = event.start_position_s
        self._indexing = IndexLoader(event.presentation, self.config, self._new_request_id)
        self._enter(Phase.INDEXING)
        self._out.extend(self._indexing.start())

    def _new_request_id(self) -> int:
        self._request_ids += 1
        return self._request_ids

    def _while_indexing(self, event: Event) -> None:
        loader = self._indexing
        assert loader is not None
        now = event.now
        if type(event) is ManifestLoaded:
            raise SessionError("ManifestLoaded twice: start a new Session for a new presentation")
        if type(event) is IndexLoaded:
            try:
                presentation = loader.loaded(event.request_id, event.data)
            except ManifestError as exc:
                self._indexing = None
                self._fail(now, str(exc))
                return
            if presentation is not None:
                self._indexing = None
                self._begin(now, presentation, self._start_position)
                held, self._held = self._held, []
                for viewer_event in held:  # in order, at the time playback could first start
                    self._handlers[type(viewer_event)](viewer_event._replace(now=now))
        elif type(event) is SegmentFailed:
            reason = loader.failed(event)
            if reason is not None:
                self._indexing = None
                self._fail(now, reason)
        elif type(event) is Seek:
            self._start_position = event.position_s  # nothing fetched yet: just start there
        elif type(event) is Tick:
            self._out.extend(loader.due(now))
        elif type(event) is not BytesReceived:
            self._held.append(event)  # Pause, Resume, PlaybackPosition, QualityCapChanged

    def _begin(self, now: float, presentation: Presentation, start_position_s: float) -> None:
        """Start on an indexed presentation: what follows ManifestLoaded, or the last index."""
        cfg = self.config
        ctx = AbrContext(presentation, 0.0)
        seg = ctx.segment_duration_s
        self._target_s = cfg.target_s(seg)
        ctx.buffer_target_s = self._target_s
        self._startup_need_s = min(
            cfg.startup_buffer_s if cfg.startup_buffer_s is not None else seg, self._target_s
        )
        self._resume_need_s = min(
            cfg.resume_buffer_s if cfg.resume_buffer_s is not None else seg, self._target_s
        )
        self._estimator = DualEwma(cfg.ewma_half_lives_s, seg)
        self._ctx = ctx
        self._clock = now  # start-up counts from ManifestLoaded (`_started_at`), indexing included
        start = min(max(start_position_s, 0.0), presentation.duration_s)
        self._next_index = presentation.segment_at(start)
        ctx.segment_index = ctx.start_index = self._next_index
        self._position = self._buffered_until = start
        if cfg.first_rendition == "estimate" and cfg.initial_throughput_kbps is not None:
            ctx.throughput_kbps = cfg.initial_throughput_kbps
        self._enter(Phase.STARTING)
        self.algorithm.start(ctx)
        self._schedule(now)

    def _on_tick(self, event: Tick) -> None:
        self._advance(event.now)
        self._check_progress(event.now, None)
        self._schedule(event.now)

    def _on_bytes(self, event: BytesReceived) -> None:
        self._advance(event.now)
        request = self._request
        if request is None or request.id != event.request_id:
            return
        if request.first_byte_at is None and event.first_byte_at is not None:
            request.first_byte_at = event.first_byte_at
        request.received_bits = event.received_bytes * 8.0
        self._check_progress(event.now, request.received_bits)
        self._schedule(event.now)

    def _on_done(self, event: SegmentDone) -> None:
        self._advance(event.now)
        request = self._request
        if request is None or request.id != event.request_id:
            return  # a late answer to a request we abandoned
        now = event.now
        self._request = None
        self._retries = 0
        self._cap_rendition = None
        record = self._record(request, now, event.first_byte_at, event.received_bytes * 8.0, False)
        ctx = self._ctx
        assert ctx is not None
        index = request.segment_index
        self._buffered_until = ctx.presentation.segment_end_s(index)
        self._buffered.append((index, request.rendition_index))
        self._next_index = index + 1
        ctx.last_rendition = request.rendition_index
        record.buffer_after_s = self._buffered_until - self._position
        self.algorithm.on_download(self._refresh(now), record)
        self._maybe_start_playing(now)
        self._schedule(now)

    def _on_failed(self, event: SegmentFailed) -> None:
        self._advance(event.now)
        request = self._request
        if request is None or request.id != event.request_id:
            return
        self._request = None
        self._retries += 1
        cfg = self.config
        if not event.retryable or self._retries > cfg.max_retries:
            where = f"segment {request.segment_index} (rendition {request.rendition_index})"
            self._fail(event.now, f"{where}: {event.reason}")
            return
        backoff = min(cfg.retry_backoff_s * 2 ** (self._retries - 1), cfg.retry_backoff_max_s)
        self._wait = Waiting(WaitKind.BACKOFF, event.now + backoff)
        # Retry no higher than what just failed: a failing rung is a reason to step down.
        self._cap_rendition = max(request.rendition_index - 1, 0)
        self._replaces = request.id
        self._schedule(event.now)

    def _on_position(self, event: PlaybackPosition) -> None:
        self._advance(event.now)
        if self._phase is Phase.PLAYING:
            self._position = min(max(event.position_s, 0.0), self._buffered_until)
        self._schedule(event.now)

    def _on_seek(self, event: Seek) -> None:
        self._advance(event.now)
        if self._phase is Phase.FAILED:
            return
        ctx = self.context
        target = min(max(event.position_s, 0.0), ctx.presentation.duration_s)
        if self._position <= target < self._buffered_until:
            self._position = target  # inside the buffer: nothing to refetch
            self._schedule(event.now)
            return
        if self._request is not None:
            self._out.append(AbortRequest(self._request.id, "seek"))
            self._request = None
        while (
            self._buffered
            and ctx.presentation.segment_start_s(self._buffered[-1][0]) >= self._position
        ):
            self._buffered.pop()  # flushed before being played
        self._out.append(FlushBuffer(target))
        if self._phase is Phase.STALLED:
            self._out.append(StallEnded(event.now, event.now - self._stall_started_at))
        self._position = self._buffered_until = target
        self._next_index = ctx.presentation.segment_at(target)
        ctx.start_index = self._next_index
        self._wait = READY  # a flushed buffer has room, and a decision made for it is void
        self._cap_rendition = None
        self._retries = 0
        self._enter(Phase.STARTING)
        self.algorithm.on_seek(self._refresh(event.now))
        self._schedule(event.now)

    def _on_pause(self, event: Pause) -> None:
        self._advance(event.now)
        self._paused = True
        self._schedule(event.now)

    def _on_resume(self, event: Resume) -> None:
        self._advance(event.now)
        self._paused = False
        self._schedule(event.now)

    def _on_cap(self, event: QualityCapChanged) -> None:
        self._advance(event.now)
        ctx = self.context
        allowed = 0
        for q, rendition in enumerate(ctx.presentation.renditions):
            too_tall = (
                event.max_height is not None
                and rendition.height is not None
                and rendition.height > event.max_height
            )
            too_fast = (
                event.max_bandwidth_bps is not None
                and rendition.bandwidth_bps > event.max_bandwidth_bps
            )
            if not (too_tall or too_fast):
                allowed = q
        ctx.max_rendition = allowed
        self._schedule(event.now)

    # -- decisions --------------------------------------------------------------------

    def _refresh(self, now: float) -> AbrContext:
        """Bring the algorithm's view up to date."""
        ctx = self._ctx
        assert ctx is not None
        ctx.now = now
        ctx.segment_index = self._next_index
        ctx.buffer_s = self._buffered_until - self._position
        ctx.playing = self._phase is Phase.PLAYING and not self._paused
        estimate = self._estimator.throughput_kbps
        if estimate is not None:
            ctx.throughput_kbps = estimate
        ctx.latency_s = self._estimator.latency_s
        return ctx

    def _schedule(self, now: float) -> None:
        """Issue the next request if it is time to; otherwise note what it waits for."""
        phase = self._phase
        if self._request is not None or phase is Phase.ENDED or phase is Phase.FAILED:
            return
        ctx = self._ctx
        assert ctx is not None
        index = self._next_index
        if index >= ctx.segment_count:
            self._wait = NOTHING
            self._maybe_start_playing(now)
            return
        wait = self._wait
        if wait.until is not None and now < wait.until - EPS:
            return
        level = self._buffered_until - self._position
        excess = level + ctx.segment_durations_s[index] - self._target_s
        if excess > EPS:
            # No room yet: the buffer drains only while playing.
            until: float | None = None
            since = wait.since
            if phase is Phase.PLAYING and not self._paused:
                until = now + excess
                if since is None:
                    since = now
            self._wait = Waiting(WaitKind.ROOM, until, since=since, decided=wait.decided)
            return
        ctx = self._refresh(now)
        if wait.since is not None:
            self.algorithm.on_idle(ctx, now - wait.since)
        self._wait = READY
        decided = wait.decided
        if decided is not None:
            rendition, reason = decided.rendition, decided.reason
        elif not ctx.downloads and self.config.first_rendition == "lowest":
            rendition, reason = 0, "first segment: lowest rendition"
        else:
            decision = self.algorithm.choose(ctx)
            if decision is None:
                self._wait = DECISION_PENDING  # an external policy will decide
                return
            if type(decision) is int:
                rendition, reason = decision, self._default_reason
            else:
                assert isinstance(decision, Decision)
                rendition, reason = decision.rendition, decision.reason or self._default_reason
                if decision.delay_s > EPS and phase is Phase.PLAYING:
                    self._wait = Waiting(
                        WaitKind.PACING,
                        now + decision.delay_s,
                        decided=Decision(rendition, reason=reason),
                    )
                    return
        if rendition > ctx.max_rendition:
            rendition = ctx.max_rendition
            reason = ("{}; quality cap", reason)
        if self._cap_rendition is not None and rendition > self._cap_rendition:
            rendition = self._cap_rendition
            reason = ("{}; retry below the failed rendition", reason)
        if rendition < 0:
            rendition = 0
        self._issue(now, index, rendition, level, reason)

    def _issue(self, now: float, index: int, rendition: int, level: float, reason: Why) -> None:
        ctx = self._ctx
        assert ctx is not None
        request_id = self._new_request_id()
        ref = ctx.presentation.renditions[rendition]
        self._request = _Request(
            id=request_id,
            segment_index=index,
            rendition_index=rendition,
            size_bits=ctx.sizes_bits[index][rendition],
            requested_at=now,
            buffer_before_s=level,
            next_check_at=self._first_check(now, rendition, level),
            reason=reason,
        )
        segment = ref.segments[index]
        # A later Period (or an HLS discontinuity) may bring its own initialization segment.
        init = segment.init or ref.init
        self._out.append(FetchSegment(request_id, index, rendition, segment, init, self._replaces))
        self._replaces = None

    def _first_check(self, now: float, rendition: int, level: float) -> float:
        """When to first look at a new download's progress.

        Nothing to abandon to from the lowest rendition. Otherwise not before
        `abandon_check_after_s`, and with a deep buffer later still: a quarter of it cannot run
        out before the check, and most downloads will have finished by then.
        """
        if rendition == 0:
            return math.inf
        return now + max(self.config.abandon_check_after_s, 0.25 * level)

    def _check_progress(self, now: float, received_bits: float | None) -> None:
        """Offer a slow in-flight download to the abandonment rule, at its scheduled checks."""
        request = self._request
        if request is None or not self.config.abandonment or now < request.next_check_at - EPS:
            return
        if received_bits is None:
            # A Tick carries no progress: judge on what the driver last reported. (A real
            # player reports bytes as they come, not at the check times this session asks
            # to be woken for, so waiting for a report due exactly then never ends; and on
            # a link that has stopped delivering, no report comes at all.)
            received_bits = request.received_bits
        if received_bits is None:
            request.next_check_at = now + self.config.abandon_check_interval_s
            return
        ctx = self._refresh(now)
        elapsed = now - request.requested_at
        latency = (
            None if request.first_byte_at is None else request.first_byte_at - request.requested_at
        )
        progress = Progress(
            request.segment_index,
            request.rendition_index,
            request.size_bits,
            received_bits,
            elapsed,
            latency,
        )
        answer = self.algorithm.should_abandon(ctx, progress)
        target = -1
        reason: Why = ""
        if type(answer) is int:
            target = answer
        elif answer is not None:
            assert isinstance(answer, Decision)
            target, reason = answer.rendition, answer.reason
        if 0 <= target < request.rendition_index:
            reason = reason or f"abandoned by {self.algorithm.name}"
            self._out.append(AbortRequest(request.id, "abandoned"))
            first_byte = request.first_byte_at if request.first_byte_at is not None else now
            record = self._record(request, now, first_byte, received_bits, True)
            record.buffer_after_s = ctx.buffer_s
            self._request = None
            self.algorithm.on_download(ctx, record)
            self._wait = Waiting(WaitKind.READY, decided=Decision(target, reason=reason))
            self._replaces = request.id
            return
        # Check again soon when it is tight, rarely when there is slack, and never more often
        # than a tenth of the time already spent (a crawling download needs no 4 Hz polling).
        interval = max(self.config.abandon_check_interval_s, 0.1 * elapsed)
        if received_bits > 0 and latency is not None and elapsed > latency:
            rate = received_bits / (elapsed - latency)
            slack = ctx.buffer_s - (request.size_bits - received_bits) / rate
            interval = max(interval, 0.5 * slack)
        request.next_check_at = now + interval

    def _record(
        self, request: _Request, now: float, first_byte_at: float, bits: float, abandoned: bool
    ) -> DownloadRecord:
        transfer = max(now - first_byte_at, 1e-6)
        throughput = bits / transfer / 1000.0
        latency = max(first_byte_at - request.requested_at, 0.0)
        if bits > 0:
            self._estimator.add_sample(transfer, throughput, latency)
        record = DownloadRecord(
            segment_index=request.segment_index,
            rendition_index=request.rendition_index,
            bits=bits,
            requested_at=request.requested_at,
            first_byte_at=first_byte_at,
            done_at=now,
            throughput_kbps=throughput,
            latency_s=latency,
            buffer_before_s=request.buffer_before_s,
            buffer_after_s=0.0,
            stall_s=self._stall_since_download,
            abandoned=abandoned,
            reason=request.reason,
        )
        self._stall_since_download = 0.0
        assert self._ctx is not None
        self._ctx.downloads.append(record)
        return record

    def _maybe_start_playing(self, now: float) -> None:
        phase = self._phase
        if phase is not Phase.STARTING and phase is not Phase.STALLED:
            return
        ctx = self.context
        level = self._buffered_until - self._position
        everything = self._next_index >= ctx.segment_count
        if phase is Phase.STARTING:
            # After a seek into the middle of a segment, that segment holds less than its duration.
            skipped = self._position - ctx.presentation.segment_start_s(ctx.start_index)
            need = self._startup_need_s - skipped
        else:
            need = self._resume_need_s
        if level < need - EPS and not everything:
            return
        if phase is Phase.STARTING:
            if self._startup_s is None:
                self._startup_s = now - self._started_at
            self._out.append(StartPlayback(now, self._position))
        else:
            self._out.append(StallEnded(now, now - self._stall_started_at))
        self._enter(Phase.PLAYING)

    def _fail(self, now: float, reason: str) -> None:
        self._enter(Phase.FAILED)
        self._failed_reason = reason
        self._ended_at = now
        self._out.append(SessionFailed(now, reason))
