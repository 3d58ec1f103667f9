"""The session under a player-like driver, as hypothesis interleaves what a viewer and a network do.

The simulator reports bytes exactly at the session's check times and never pauses, seeks,
fails a segment or caps the quality: the blind spot where the player's never-abandon bug
lived. This driver reports bytes on its own cadence, as the player does, and mixes in all of
those; after every step the time accounts must add up and every command must be legal in the
phase it came in.
"""

from __future__ import annotations

import dataclasses

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

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
from abr.events import (
    BytesReceived,
    Event,
    ManifestLoaded,
    Pause,
    QualityCapChanged,
    Resume,
    Seek,
    SegmentDone,
    SegmentFailed,
    Tick,
)
from abr.manifests import parse_sabre_video
from abr.registry import BUILTIN, create
from abr.session import Phase, Session, WaitKind
from simulator.synthetic_video import synthetic_video

_VIDEO = parse_sabre_video(synthetic_video(segments=12, seed=3), source="synthetic")
# Heights, so a cap by height has something to act on.
VIDEO = dataclasses.replace(
    _VIDEO,
    renditions=tuple(
        dataclasses.replace(r, height=180 * (q + 1)) for q, r in enumerate(_VIDEO.renditions)
    ),
)
OVER = (Phase.ENDED, Phase.FAILED)
TOLERANCE_S = 1e-6


class PlayerLikeDriver(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.session: Session | None = None
        self.now = 0.0
        self.rate_bps = 1e6  # bytes per second the link delivers
        self.latency_s = 0.1
        self.report_every_s = 0.1
        # The request in flight: id, size and first-byte time; bytes received so far.
        self.flight: tuple[int, float, float] | None = None
        self.received = 0.0
        self.view = Phase.IDLE  # the phase as the commands so far tell it
        self.stall_open = False

    @rule(
        name=st.sampled_from(sorted(BUILTIN)),
        start=st.floats(0.0, 40.0),
        report_every_s=st.floats(0.03, 0.7),
    )
    @precondition(lambda self: self.session is None)
    def load(self, name: str, start: float, report_every_s: float) -> None:
        self.session = Session(create(name))
        self.report_every_s = report_every_s
        self.view = Phase.STARTING  # the manifest starts the session: no command says so
        self.feed(ManifestLoaded(0.0, VIDEO, start_position_s=start))

    @rule(dt=st.floats(0.01, 6.0), rate_kbps=st.floats(100.0, 20_000.0))
    @precondition(lambda self: self.running)
    def time_passes(self, dt: float, rate_kbps: float) -> None:
        """The link runs at `rate_kbps` for `dt`: bytes arrive, reported every so often."""
        self.rate_bps = rate_kbps * 125.0
        target = self.now + dt
        next_report = self.now + self.report_every_s
        while self.running and self.now < target:
            session = self.session
            assert session is not None
            done_at = self.done_at()
            wake = session.next_wakeup()
            candidates = [target, next_report]
            if done_at is not None:
                candidates.append(done_at)
            if wake is not None:
                candidates.append(max(wake, self.now))
            at = min(candidates)
            self.receive_until(at)
            if done_at is not None and at == done_at:
                request_id, size, first_byte = self.flight_info()
                self.flight = None
                self.feed(SegmentDone(at, request_id, size, first_byte))
            elif at == next_report and self.flight is not None and at > self.flight[2]:
                next_report = at + self.report_every_s
                self.feed(BytesReceived(at, self.flight[0], self.received, self.flight[2]))
            else:  # the session's wake-up, the player's own timer, or the end of the span
                if at == next_report:
                    next_report = at + self.report_every_s
                self.feed(Tick(at))

    @rule()
    @precondition(lambda self: self.running)
    def pause(self) -> None:
        self.feed(Pause(self.now))

    @rule()
    @precondition(lambda self: self.running)
    def resume(self) -> None:
        self.feed(Resume(self.now))

    @rule(share=st.floats(0.0, 1.0))
    @precondition(lambda self: self.running)
    def seek(self, share: float) -> None:
        self.feed(Seek(self.now, share * VIDEO.duration_s))

    @rule(retryable=st.booleans())
    @precondition(lambda self: self.running and self.flight is not None)
    def segment_fails(self, retryable: bool) -> None:
        request_id, _, _ = self.flight_info()
        self.flight = None
        self.feed(SegmentFailed(self.now, request_id, "HTTP 503", retryable))

    @rule(
        max_height=st.none() | st.sampled_from([180, 540, 1080]),
        max_bandwidth_bps=st.none() | st.integers(200_000, 6_000_000),
    )
    @precondition(lambda self: self.running)
    def cap_quality(self, max_height: int | None, max_bandwidth_bps: int | None) -> None:
        self.feed(QualityCapChanged(self.now, max_height, max_bandwidth_bps))

    @rule()
    @precondition(lambda self: self.running)
    def tick(self) -> None:
        self.feed(Tick(self.now))

    @rule()
    @precondition(lambda self: self.session is not None and not self.running)
    def over(self) -> None:
        """Ended or failed: the accounts stop at the end and cover all of the session."""
        assert self.session is not None
        m = self.session.metrics()
        assert m.ended_at is not None and m.ended_at <= self.now + TOLERANCE_S
        accounted = (m.startup_s or 0.0) + m.played_s + m.stalled_s + m.paused_s + m.seeking_s
        if m.startup_s is not None:
            assert abs(accounted - (m.ended_at - m.started_at)) < TOLERANCE_S

    # -- the driver ---------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self.session is not None and self.session.phase not in OVER

    def flight_info(self) -> tuple[int, float, float]:
        assert self.flight is not None
        return self.flight

    def done_at(self) -> float | None:
        if self.flight is None:
            return None
        _, size, first_byte = self.flight
        return max(first_byte, self.now) + (size - self.received) / self.rate_bps

    def receive_until(self, at: float) -> None:
        if self.flight is not None:
            first_byte = self.flight[2]
            self.received += max(at - max(self.now, first_byte), 0.0) * self.rate_bps
            self.received = min(self.received, self.flight[1])
        self.now = at

    def feed(self, event: Event) -> None:
        session = self.session
        assert session is not None
        for command in session.handle(event):
            self.check_and_carry_out(command)
        assert self.view is session.phase, (self.view, session.phase)

    def check_and_carry_out(self, command: Command) -> None:
        """Each command against the phase the commands before it left the session in."""
        session = self.session
        assert session is not None
        view = self.view
        if isinstance(command, FetchSegment):
            assert view not in OVER and self.flight is None, (view, self.flight)
            assert 0 <= command.segment_index < VIDEO.segment_count
            assert command.rendition_index <= session.context.max_rendition
            size = command.segment.size_bits / 8.0
            self.flight = (command.request_id, size, self.now + self.latency_s)
            self.received = 0.0
        elif isinstance(command, AbortRequest):
            assert self.flight is not None and command.request_id == self.flight[0]
            self.flight = None
        elif isinstance(command, FlushBuffer):
            assert view not in (Phase.IDLE, Phase.FAILED)
            self.stall_open = view is Phase.STALLED
            self.view = Phase.STARTING
        elif isinstance(command, StartPlayback):
            assert view is Phase.STARTING
            self.view = Phase.PLAYING
        elif isinstance(command, StallStarted):
            assert view is Phase.PLAYING
            self.view = Phase.STALLED
        elif isinstance(command, StallEnded):
            assert view is Phase.STALLED or (view is Phase.STARTING and self.stall_open)
            if view is Phase.STALLED:
                self.view = Phase.PLAYING
            self.stall_open = False
        elif isinstance(command, PlaybackEnded):
            assert view is Phase.PLAYING
            self.view = Phase.ENDED
        else:
            assert isinstance(command, SessionFailed)
            assert view not in (Phase.IDLE, *OVER)
            self.view = Phase.FAILED

    # -- invariants ---------------------------------------------------------------------

    @invariant()
    def time_adds_up(self) -> None:
        """Start-up + played + stalled + paused + seeking = the time the session has run."""
        if not self.running:
            return
        assert self.session is not None
        m = self.session.metrics()
        elapsed = self.now - m.started_at
        if m.startup_s is None:  # not started yet: all of it is start-up
            assert m.played_s == m.stalled_s == m.paused_s == m.seeking_s == 0.0
            return
        accounted = m.startup_s + m.played_s + m.stalled_s + m.paused_s + m.seeking_s
        assert abs(accounted - elapsed) < TOLERANCE_S, (accounted, elapsed)

    @invariant()
    def buffer_and_playhead_stay_in_bounds(self) -> None:
        if self.session is None:
            return
        assert self.session.buffer_s >= -TOLERANCE_S
        assert -TOLERANCE_S <= self.session.position_s <= VIDEO.duration_s + TOLERANCE_S

    @invariant()
    def the_wait_matches_the_driver(self) -> None:
        """A download in flight is what the session waits for, and it never asks for the past."""
        if not self.running:
            return
        assert self.session is not None
        waiting = self.session.waiting
        if self.flight is None:
            assert waiting.kind is not WaitKind.DOWNLOAD
        else:
            assert waiting.kind is WaitKind.DOWNLOAD and waiting.request_id == self.flight[0]
        wake = self.session.next_wakeup()
        assert wake is None or wake >= self.now - TOLERANCE_S


PlayerLikeDriver.TestCase.settings = settings(
    max_examples=150, stateful_step_count=40, deadline=None
)
test_session_under_a_player_like_driver = PlayerLikeDriver.TestCase
