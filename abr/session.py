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
from typing import Any, Final

from abr.algorithm import AbrAlgorithm
from abr.commands import (
    AbortRequest,
    Command,
    FetchSegment,
    FlushBuffer,
    PlaybackEnded,
    RefreshManifest,
    SessionFailed,
    SetPlaybackRate,
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
from abr.liveedge import LatencyStats, LiveEdge, catch_up_rate
from abr.manifests import ManifestError, next_reload_delay_s, refreshed
from abr.presentation import Presentation
from abr.values import Value

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


class Waiting(Value):
    """What the session's next request waits for (`Session.waiting`).

    `until`: when the session wants a `Tick` for it (None: only another event will do; for
    DECISION, whatever tells the algorithm its answer). A choice already made for the next
    request (after pacing or an abandonment) rides along in `decided`.
    """

    __slots__ = ("kind", "until", "request_id", "since", "decided")

    def __init__(
        self,
        kind: WaitKind,
        until: float | None = None,
        request_id: int | None = None,
        since: float | None = None,
        decided: Decision | None = None,
    ) -> None:
        self.kind: Final = kind
        self.until: Final = until
        self.request_id: Final = request_id  # DOWNLOAD: the request in flight
        self.since: Final = since  # ROOM: when the buffer filled (`on_idle` gets the wait)
        self.decided: Final = decided


# The waits that carry nothing but their kind: built once, not on every request.
READY = Waiting(WaitKind.READY)
NOTHING = Waiting(WaitKind.NOTHING)
DECISION_PENDING = Waiting(WaitKind.DECISION)
LIVE_EDGE = Waiting(WaitKind.LIVE_EDGE)
# Live manifests are reloaded no more often than this, whatever they ask (minimumUpdatePeriod
# may be 0: "reload after every segment"; a reload per event would never end).
MIN_RELOAD_S = 0.5
RELOAD_MARGIN_S = 0.1  # after a segment's availability time, before asking for it
# While the catch-up rate is not 1, the session re-checks latency this often.
CONTROL_INTERVAL_S = 0.5


@dataclass(frozen=True, slots=True)
class LiveWindow:
    """A live session's DVR window and edge, in presentation time (`Session.live_window`)."""

    start_s: float  # the earliest position a Seek reaches (the first listed segment's start)
    edge_s: float  # the live edge now: the position whose latency is zero
    target_latency_s: float  # where the session joins, GoLive returns and catch-up steers to


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
    # Segments that reached the buffer, in order, as (segment index, rendition index); live:
    # (segment number, rendition index), as indices shift when the window slides.
    buffered: list[tuple[int, int]] = field(default_factory=list)
    buffered_s: list[float] = field(default_factory=list)  # the media each of them holds
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
            ClockSynced: self._on_clock,
            ManifestRefreshed: self._on_refreshed,
            RefreshFailed: self._on_refresh_failed,
            GoLive: self._on_go_live,
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
        self._buffered_s: list[float] = []
        self._estimator = DualEwma(self.config.ewma_half_lives_s)
        self._target_s = 0.0
        self._startup_need_s = 0.0
        self._resume_need_s = 0.0
        # Live with an availabilityTimeOffset: the chunk a segment is served in as it is made
        # (its duration less the offset); start-up and resume need one chunk, not a segment.
        self._chunk_s: float | None = None
        self._indexing: IndexLoader | None = None
        self._held: list[Event] = []  # viewer events that came while indexing
        self._start_position = 0.0
        # Live only (see `abr.liveedge`); `_origin` and `_number_base` are 0 for VOD, where
        # positions and segment indices are the same as presentation times and numbers.
        self._live: LiveEdge | None = None
        self._join_at: float | None = None  # ManifestLoaded.join_at_s
        self._utc_offset: float | None = None
        self._origin = 0.0  # presentation time of segment 0 of the current load
        self._number_base = 0  # segment number of segment 0 of the current load
        self._rate = 1.0
        self._live_target_s = 0.0
        self._live_resync_s = math.inf
        self._catch_up = False  # steering to the target latency (off after a seek behind it)
        self._joining = False  # the last jump was to the target latency, not a viewer's seek
        self._refresh_at: float | None = None
        self._refresh_pending = False
        self._refresh_failures = 0
        self._control_at: float | None = None  # re-check the catch-up rate while it is not 1
        # Live trouble (see `live_trouble`): when media last arrived and the listing last grew,
        # and the latest reload / segment failure not yet followed by a success.
        self._last_done_at = 0.0
        self._last_change_at = 0.0
        self._refresh_error: str | None = None
        self._refresh_failing_since = 0.0
        self._segment_error: str | None = None
        self._resync_idle = False  # a due resync would gain nothing until the next reload
        self._latency = LatencyStats()
        self._rate_change_s = 0.0
        self._rate_changes = 0

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
            if type(event) is not ClockSynced:
                raise SessionError(f"{type(event).__name__} before ManifestLoaded")
            handler(event)
        else:
            handler(event)
            if self._live is not None:
                self._live_step(event.now)
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
            empty_at = self._clock + (self._buffered_until - self._position) / self._rate
            if wake is None or empty_at < wake:
                wake = empty_at
        if self._live is not None:
            for at in self._live_wakeups():
                if at is not None and (wake is None or at < wake):
                    wake = at
        return wake

    def _live_wakeups(self) -> tuple[float | None, ...]:
        phase = self._phase
        refresh = None if self._refresh_pending else self._refresh_at
        resync = None
        if phase is Phase.STALLED and self._catch_up and not self._resync_idle:
            resync = self._stall_started_at + self._live_resync_s
        control = self._control_at if phase is Phase.PLAYING else None
        gone = None
        if self._starving():
            gone = self._last_done_at + self.config.live_gone_after_s
        return refresh, resync, control, gone

    @property
    def context(self) -> AbrContext:
        if self._ctx is None:
            raise SessionError("no manifest loaded yet")
        return self._ctx

    @property
    def live_latency_s(self) -> float | None:
        """Live: the latency at the playhead now, in seconds (None for VOD).

        Latency = (UTC now) - (the UTC time at which the media at the playhead was live), UTC
        now being the last event's `now` + the driver's `utc_offset_s`. The media at position p
        (presentation time) in segment i was live at
            available_at_utc_s[i] - (end of segment i - p)
        which for DASH is availabilityStartTime + Period@start + p, for HLS with
        EXT-X-PROGRAM-DATE-TIME the segment's date-time plus the offset into it; without
        availability times, a segment went live when the first load listing it was made (the
        distance to that load's live edge plus the time since it). See `abr.liveedge`.
        """
        if self._live is None or self._utc_offset is None:
            return None
        return self._live.latency_s(self._position, self._clock + self._utc_offset)

    @property
    def live_window(self) -> LiveWindow | None:
        """Live: where a viewer may seek and where live is now (None for VOD, or before the
        driver's UTC offset is known)."""
        if self._live is None or self._utc_offset is None:
            return None
        now_utc = self._clock + self._utc_offset
        return LiveWindow(self._live.start_s, self._live.edge_s(now_utc), self._live_target_s)

    @property
    def live_trouble(self) -> str | None:
        """Live: why nothing new is coming, as of the last event, when something is wrong (a
        stall's reason for the viewer): a failing reload, a failing segment, or a listing that
        stopped growing. None for VOD and while the channel is fine."""
        if self._live is None:
            return None
        now = self._clock
        if self._refresh_error is not None:
            since = now - self._refresh_failing_since
            return f"the manifest reload has failed for {since:.0f} s: {self._refresh_error}"
        if self._segment_error is not None:
            return self._segment_error
        unchanged = now - self._last_change_at
        if unchanged > self._live_target_s and not self._live.ended:
            kind = "manifest" if self._live.presentation.timeline.start_is_absolute else "playlist"
            return f"the live {kind} stopped updating (last change {unchanged:.0f} s ago)"
        return None

    @property
    def playback_rate(self) -> float:
        """The rate the session asked for last (SetPlaybackRate); 1.0 unless catching up."""
        return self._rate

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
            buffered_s=list(self._buffered_s),
            downloads=self._ctx.downloads if self._ctx is not None else [],
            failed_reason=self._failed_reason,
            live_latency_mean_s=self._latency.mean_s,
            live_latency_p95_s=self._latency.p95_s,
            rate_change_s=self._rate_change_s,
            rate_changes=self._rate_changes,
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
            rate = self._rate
            if self._live is not None:
                self._account_live(dt)
            available = self._buffered_until - self._position
            # Within a nanosecond of empty counts as empty: float sums of times stop moving.
            if dt * rate + EPS < available:
                self._position += dt * rate
                self._played_s += dt
            else:
                self._position = self._buffered_until
                available /= rate  # the wall time it lasted
                self._played_s += available
                empty_at = self._clock + available
                if (
                    self._next_index >= self.context.segment_count
                    and self._request is None
                    and (self._live is None or self._live.ended)
                ):
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

    def _on_manifest(self, event: ManifestLoaded) -> None:
        if self._phase is not Phase.IDLE:
            raise SessionError("ManifestLoaded twice: start a new Session for a new presentation")
        if event.utc_offset_s is not None:
            self._utc_offset = event.utc_offset_s
        if event.presentation.timeline.live and self._utc_offset is None:
            raise SessionError(
                "a live presentation needs the driver's UTC offset: send ClockSynced first or "
                "give ManifestLoaded a utc_offset_s"
            )
        self._clock = self._started_at = event.now
        if event.presentation.is_indexed:
            self._join_at = event.join_at_s
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
                    self._handlers[type(viewer_event)](viewer_event.replace(now=now))
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
        if presentation.timeline.live:
            start = self._begin_live(now, presentation, seg)
        else:
            start = min(max(start_position_s, 0.0), presentation.duration_s)
        self._next_index = presentation.segment_at(start - self._origin)
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
        if event.media_s is not None and self._chunk_s is not None:
            presentation = self.context.presentation
            index = request.segment_index
            end = self._origin + presentation.segment_start_s(index) + event.media_s
            end = min(end, self._origin + presentation.segment_end_s(index))
            if end > self._buffered_until:
                self._buffered_until = end
                self._maybe_start_playing(event.now)
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
        if self._live is not None:
            self._last_done_at = now
            self._segment_error = None
        record = self._record(
            request, now, event.first_byte_at, event.received_bytes * 8.0, False, event.transfer_s
        )
        ctx = self._ctx
        assert ctx is not None
        index = request.segment_index
        self._buffered_until = self._origin + ctx.presentation.segment_end_s(index)
        self._buffered.append((index + self._number_base, request.rendition_index))
        self._buffered_s.append(ctx.segment_durations_s[index])
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
        live = self._live is not None
        if not event.retryable or (self._retries > cfg.max_retries and not live):
            self._fail(event.now, f"{self._segment_name(request)}: {event.reason}")
            return
        backoff = min(cfg.retry_backoff_s * 2 ** (self._retries - 1), cfg.retry_backoff_max_s)
        if live:
            # Most likely late (the newest segment, an edge behind its manifest): retried at
            # least once a segment duration; the channel counts as gone only after
            # live_gone_after_s without media, or re-joins once it slides out of the window.
            self._segment_error = f"{self._segment_name(request)}: {event.reason}"
            if (
                self._catch_up
                and self._behind_for_resync(event.now)
                and self._rejoin_gains(event.now)
            ):
                self._rejoin(event.now)  # a hole (the encoder was gone): skip to live
                return
            backoff = min(backoff, self.context.segment_durations_s[request.segment_index])
        self._wait = Waiting(WaitKind.BACKOFF, event.now + backoff)
        # Retry no higher than what just failed: a failing rung is a reason to step down.
        self._cap_rendition = max(request.rendition_index - 1, 0)
        self._replaces = request.id
        self._schedule(event.now)

    def _segment_name(self, request: _Request) -> str:
        number = request.segment_index + self._number_base  # live: its number, not its index
        return f"segment {number} (rendition {request.rendition_index})"

    def _on_position(self, event: PlaybackPosition) -> None:
        self._advance(event.now)
        if self._phase is Phase.PLAYING:
            self._position = min(max(event.position_s, 0.0), self._buffered_until)
        self._schedule(event.now)

    def _on_seek(self, event: Seek) -> None:
        self._advance(event.now)
        if self._phase is Phase.FAILED:
            return
        live = self._live
        if live is None:
            target = min(max(event.position_s, 0.0), self.context.presentation.duration_s)
        else:
            # Within the DVR window, and no closer to live than the target latency (GoLive).
            now_utc = event.now + self._utc_offset_or_fail()
            live_pos = live.position_at_latency(self._live_target_s, now_utc)
            target = min(max(event.position_s, live.start_s), live_pos)
            band = max(0.2, 0.05 * self._live_target_s)
            self._catch_up = target >= live_pos - band  # a seek behind live leaves it alone
            self._joining = False
        self._jump(event.now, target)

    def _jump(self, now: float, target: float) -> None:
        """Play from `target` (presentation time): within the buffer, or flush and refetch."""
        ctx = self.context
        if self._position <= target < self._buffered_until:
            self._position = target  # inside the buffer: nothing to refetch
            self._schedule(now)
            return
        if self._request is not None:
            self._out.append(AbortRequest(self._request.id, "seek"))
            self._request = None
        presentation = ctx.presentation
        while self._buffered:
            index = self._buffered[-1][0] - self._number_base
            if index < 0 or self._origin + presentation.segment_start_s(index) < self._position:
                break
            self._buffered.pop()  # flushed before being played
            self._buffered_s.pop()
        self._out.append(FlushBuffer(target))
        if self._phase is Phase.STALLED:
            self._out.append(StallEnded(now, now - self._stall_started_at))
        self._position = self._buffered_until = target
        self._next_index = presentation.segment_at(target - self._origin)
        ctx.start_index = self._next_index
        self._wait = READY  # a flushed buffer has room, and a decision made for it is void
        self._cap_rendition = None
        self._retries = 0
        self._enter(Phase.STARTING)
        self.algorithm.on_seek(self._refresh(now))
        self._schedule(now)

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
        if self._live is not None:
            ctx.live_latency_s = self.live_latency_s
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
            if self._live is not None and not self._live.ended:
                self._wait = LIVE_EDGE
                return
            self._wait = NOTHING
            self._maybe_start_playing(now)
            return
        wait = self._wait
        if wait.until is not None and now < wait.until - EPS:
            return
        if self._live is not None:
            offset = self._utc_offset_or_fail()
            available_at = self._live.available_utc_s[index] - offset
            if now < available_at - EPS:
                self._wait = Waiting(WaitKind.AVAILABILITY, available_at, decided=wait.decided)
                return
        level = self._buffered_until - self._position
        excess = level + ctx.segment_durations_s[index] - self._target_s
        if excess > EPS:
            # No room yet: the buffer drains only while playing.
            until: float | None = None
            since = wait.since
            if phase is Phase.PLAYING and not self._paused:
                until = now + excess / self._rate
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
            if isinstance(decision, Decision):
                rendition, reason = decision.rendition, decision.reason or self._default_reason
                if decision.delay_s > EPS and phase is Phase.PLAYING:
                    self._wait = Waiting(
                        WaitKind.PACING,
                        now + decision.delay_s,
                        decided=Decision(rendition, reason=reason),
                    )
                    return
            else:
                rendition, reason = decision, self._default_reason
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
        self._request_ids += 1  # (not `_new_request_id`: a call per segment, on the hot path)
        request_id = self._request_ids
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

        Never for a live segment served chunk by chunk as it is made: its progress is the
        encoder's pace as much as the link's, and whatever the rendition it ends no sooner
        than the segment is made (a refetch lower only starts over). The next decision, on a
        throughput measured while bytes arrived (`SegmentDone.transfer_s`), corrects a rung
        the link cannot carry.
        """
        if rendition == 0 or self._chunk_s is not None:
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
        self,
        request: _Request,
        now: float,
        first_byte_at: float,
        bits: float,
        abandoned: bool,
        transfer_s: float | None = None,
    ) -> DownloadRecord:
        transfer = max(now - first_byte_at if transfer_s is None else transfer_s, 1e-6)
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
            if self._chunk_s is not None:
                # A chunk's worth, or what is left of the join segment.
                end = self._origin + ctx.presentation.segment_end_s(ctx.start_index)
                need = min(self._startup_need_s, end - self._position)
            else:
                start = self._origin + ctx.presentation.segment_start_s(ctx.start_index)
                need = self._startup_need_s - (self._position - start)
        else:
            need = self._resume_need_s
        if self._live is not None:
            everything = everything and self._live.ended
            if self._joining and self._behind_for_resync(now) and self._rejoin_gains(now):
                self._rejoin(now)  # the link was out while joining: this media is stale
                return
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

    # -- live ---------------------------------------------------------------------------

    def _utc_offset_or_fail(self) -> float:
        if self._utc_offset is None:  # _on_manifest refuses a live presentation without one
            raise SessionError("live mode without a UTC offset")
        return self._utc_offset

    def _begin_live(self, now: float, presentation: Presentation, seg: float) -> float:
        """Set up live mode on the first load; the position to join at (presentation time)."""
        cfg = self.config
        now_utc = now + self._utc_offset_or_fail()
        live = self._live = LiveEdge(presentation, now_utc)
        self._origin = presentation.timeline.start_s
        self._number_base = presentation.timeline.first_number
        self._live_target_s = cfg.live_target_s(seg)
        self._live_resync_s = cfg.live_resync_s(self._live_target_s)
        early = presentation.timeline.availability_offset_s
        if 0 < early < seg:
            chunk = self._chunk_s = seg - early
            self._startup_need_s = min(
                cfg.startup_buffer_s if cfg.startup_buffer_s is not None else chunk, self._target_s
            )
            self._resume_need_s = min(
                cfg.resume_buffer_s if cfg.resume_buffer_s is not None else chunk, self._target_s
            )
        self._schedule_reload(now, None, presentation)
        self._last_done_at = self._last_change_at = now
        assert self._ctx is not None
        self._ctx.live = True
        self._ctx.live_target_latency_s = self._live_target_s
        join = self._join_at
        target = live.position_at_latency(self._live_target_s, now_utc)
        self._joining = self._catch_up = join is None
        if join is None:
            return target
        # As a Seek: at the target latency or behind it, within the window.
        start = min(max(join, live.start_s), target)
        self._catch_up = start >= target - max(0.2, 0.05 * self._live_target_s)
        return start

    def _schedule_reload(
        self, now: float, previous: Presentation | None, current: Presentation
    ) -> None:
        delay = next_reload_delay_s(previous, current)
        if delay is None:
            self._refresh_at = None
            return
        available = current.timeline.available_at_utc_s
        if available and self._utc_offset is not None:
            # The next segment is due before the update period is over (Shaka Packager's
            # SegmentTimeline MPDs: 2 s segments, minimumUpdatePeriod 5 s): reload as it comes
            # out, or a player three segments behind live runs dry waiting for the listing.
            due = available[-1] + current.segment_durations_s[-1] - self._utc_offset
            if due > now:
                delay = min(delay, due - now + RELOAD_MARGIN_S)
            elif now - due < delay:
                # Due and not listed yet: a CDN's cached manifest a little past its next
                # version's due time (ours: 0.3-1.3 s), a publisher running late. Waiting a
                # whole period, segments came in pairs every other period and a viewer 6 s
                # behind stalled on a fast link; a listing still late after a period (an
                # encoder gone) is left to the period again.
                delay = MIN_RELOAD_S
        self._refresh_at = now + max(delay, MIN_RELOAD_S)

    def _live_step(self, now: float) -> None:
        """After every live event: reload when due, resync after a long stall, steer the rate."""
        phase = self._phase
        if phase is Phase.ENDED or phase is Phase.FAILED:
            return
        at = self._refresh_at
        if at is not None and not self._refresh_pending and now >= at - EPS:
            self._refresh_pending = True
            self._out.append(RefreshManifest(now))
        if self._starving() and now - self._last_done_at >= self.config.live_gone_after_s - EPS:
            self._fail(now, self._gone_reason(now))
            return
        if (
            phase is Phase.STALLED
            and self._catch_up
            and not self._resync_idle
            and now - self._stall_started_at >= self._live_resync_s - EPS
        ):
            if self._rejoin_gains(now):
                self._rejoin(now)
                phase = self._phase
            else:  # the edge has not moved past the playhead (nothing new listed)
                self._resync_idle = True
        rate = 1.0
        steered = False
        if phase is Phase.PLAYING and not self._paused and self._catch_up:
            rate, steered = self._catch_up_rate(now)
        if rate != self._rate:
            self._rate = rate
            self.context.playback_rate = rate
            self._rate_changes += 1
            self._out.append(SetPlaybackRate(now, rate))
        # An algorithm that steers the rate is asked again within CONTROL_INTERVAL_S even at
        # 1x: it may slow down ahead of a stall that no event would come before.
        control = self._rate != 1.0 or steered
        self._control_at = now + CONTROL_INTERVAL_S if control else None

    def _catch_up_rate(self, now: float) -> tuple[float, bool]:
        """The rate to play at now, and whether the algorithm chose it (see
        `AbrAlgorithm.playback_rate`); the session's own catch-up otherwise."""
        cap = self.config.live_max_rate_change
        wanted = self.algorithm.playback_rate(self._refresh(now), cap)
        if wanted is not None:
            if not math.isfinite(wanted):
                raise SessionError(f"{self.algorithm.name}: playback rate {wanted!r}")
            return round(min(max(wanted, 1.0 - cap), 1.0 + cap), 2), True
        latency = self.live_latency_s
        assert latency is not None
        seg = self.context.segment_duration_s
        rate = catch_up_rate(
            latency,
            self._live_target_s,
            self._buffered_until - self._position,
            min(seg, self._live_target_s / 2),
            cap,
            self._rate,
        )
        return rate, False

    def _account_live(self, dt: float) -> None:
        """Latency statistics and time off 1x over the `dt` about to be played."""
        if self._paused or dt <= 0:
            return
        rate = self._rate
        played = min(dt, (self._buffered_until - self._position) / rate)
        latency = self.live_latency_s
        if latency is not None:
            # Latency moves linearly at (1 - rate) s per s: its midpoint is its time average.
            self._latency.add(latency + played * (1.0 - rate) / 2, played)
        if rate != 1.0:
            self._rate_change_s += played

    def _starving(self) -> bool:
        """Live: nothing to play and nothing on its way (the channel-gone clock runs)."""
        phase = self._phase
        return (
            (phase is Phase.STALLED or phase is Phase.STARTING)
            and self._request is None
            and not self._paused
        )

    def _gone_reason(self, now: float) -> str:
        waited = now - self._last_done_at
        cause = self.live_trouble or "no new segment became available"
        return f"the live stream stopped: nothing new to play for {waited:.0f} s; {cause}"

    def _rejoin_gains(self, now: float) -> bool:
        """Whether re-joining at the target latency would move the playhead forward."""
        live = self._live
        assert live is not None
        now_utc = now + self._utc_offset_or_fail()
        return live.position_at_latency(self._live_target_s, now_utc) > self._position + EPS

    def _behind_for_resync(self, now: float) -> bool:
        latency = self.live_latency_s
        return latency is not None and latency > self._live_target_s + self._live_resync_s

    def _rejoin(self, now: float) -> None:
        """Jump to the live edge minus the target latency: join, GoLive, resync, reset."""
        live = self._live
        assert live is not None
        now_utc = now + self._utc_offset_or_fail()
        self._catch_up = self._joining = True
        self._jump(now, live.position_at_latency(self._live_target_s, now_utc))

    def _on_clock(self, event: ClockSynced) -> None:
        if self._ctx is not None:
            self._advance(event.now)
        self._utc_offset = event.utc_offset_s
        if self._ctx is not None:
            self._schedule(event.now)

    def _live_or_fail(self, event: Event) -> LiveEdge:
        if self._live is None:
            raise SessionError(f"{type(event).__name__} for a presentation that is not live")
        return self._live

    def _on_go_live(self, event: GoLive) -> None:
        self._live_or_fail(event)
        self._advance(event.now)
        if self._phase is not Phase.FAILED:
            self._rejoin(event.now)

    def _on_refresh_failed(self, event: RefreshFailed) -> None:
        self._live_or_fail(event)
        self._advance(event.now)
        self._refresh_pending = False
        if self._refresh_error is None:
            self._refresh_failing_since = event.now
        self._refresh_error = event.reason
        self._refresh_failures += 1
        cfg = self.config
        failing_s = event.now - self._refresh_failing_since
        # A live channel's reloads fail for a while when its origin or encoder restarts (or
        # an edge serves an older copy): give up only when it lasts.
        if self._refresh_failures > cfg.max_retries and failing_s >= cfg.live_gone_after_s - EPS:
            if self._phase is not Phase.FAILED and self._phase is not Phase.ENDED:
                self._fail(
                    event.now, f"manifest reload: {event.reason} (failing for {failing_s:.0f} s)"
                )
            return
        n = self._refresh_failures
        backoff = min(cfg.retry_backoff_s * 2 ** (n - 1), cfg.retry_backoff_max_s)
        # No slower than the reload cadence itself: a longer wait loses the live edge.
        cadence = self._live_or_fail(event).presentation.timeline.refresh_s
        if cadence is not None:
            backoff = min(backoff, max(cadence, MIN_RELOAD_S))
        self._refresh_at = event.now + backoff

    def _on_refreshed(self, event: ManifestRefreshed) -> None:
        live = self._live_or_fail(event)
        now = event.now
        self._advance(now)
        self._refresh_pending = False
        if self._phase is Phase.ENDED or self._phase is Phase.FAILED:
            return
        previous = live.presentation
        try:
            refresh = refreshed(previous, event.presentation)
        except ManifestError as exc:
            self._on_refresh_failed(RefreshFailed(now, str(exc)))
            return
        self._refresh_failures = 0
        self._refresh_error = None
        self._resync_idle = False
        if refresh.added > 0 or refresh.reset:
            self._last_change_at = now
        presentation = refresh.presentation
        live.refresh(refresh, now + self._utc_offset_or_fail())
        self._schedule_reload(now, previous, presentation)
        self._take_load(presentation, refresh.dropped)
        if refresh.reset:
            self._rejoin(now)  # what is buffered is not the media the new load lists
            return
        if self._next_index < 0 or (self._request is not None and self._request.segment_index < 0):
            # The window slid past what comes next: live again, or the window's start (DVR).
            if self._catch_up:
                self._rejoin(now)
            else:
                self._jump(now, live.start_s)
            return
        wait = self._wait.kind
        if wait is WaitKind.LIVE_EDGE or wait is WaitKind.AVAILABILITY:
            self._wait = READY
        self._schedule(now)
        self._maybe_start_playing(now)

    def _take_load(self, presentation: Presentation, dropped: int) -> None:
        """Index the session's state by the new load: `dropped` segments slid out before it."""
        ctx = self.context
        ctx.presentation = presentation
        ctx.bitrates_kbps = list(presentation.bitrates_kbps)
        ctx.sizes_bits = presentation.size_table_bits()
        ctx.segment_durations_s = list(presentation.segment_durations_s)
        ctx.segment_count = presentation.segment_count
        ctx.max_rendition = min(ctx.max_rendition, len(ctx.bitrates_kbps) - 1)
        self._next_index -= dropped
        ctx.start_index = max(ctx.start_index - dropped, 0)
        ctx.segment_index = self._next_index
        if self._request is not None:
            self._request.segment_index -= dropped
        self._origin = presentation.timeline.start_s
        self._number_base = presentation.timeline.first_number
