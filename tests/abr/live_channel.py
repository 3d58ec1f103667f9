"""A synthetic live channel and a virtual-clock driver for the session's live mode.

The channel publishes one segment every `segment_s` from `AST` (segment n is complete, and
available, at AST + (n + 1) x segment_s) and lists a sliding window of them, DASH-like
(absolute times, availability times) or HLS-like (media sequence only, no date-times). The
driver carries out the session's commands over a constant link with optional outages, feeds
reloads made at the time they were asked for, and checks as it goes that no segment is
requested before it is available and that every rate is within bounds.

Bad live input: the encoder gone for a span (`gone`; HLS-like the playlist stops growing, DASH-like
the template keeps listing segments that 404), segments that 404 for a while after their
availability time (`late_s`), reloads that return an older copy (`backwards`).
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field

from abr.commands import (
    Command,
    FetchSegment,
    PlaybackEnded,
    RefreshManifest,
    SessionFailed,
    SetPlaybackRate,
    StartPlayback,
)
from abr.events import (
    Event,
    ManifestLoaded,
    ManifestRefreshed,
    SegmentDone,
    SegmentFailed,
    Tick,
)
from abr.presentation import Presentation, Rendition, SegmentRef, Timeline
from abr.session import Session

AST = 1_700_000_000.0  # the channel's availabilityStartTime (UTC)
OFFSET = AST  # the driver's clock 0 is the channel's start: utc = now + OFFSET
BITRATES_BPS = (300_000, 750_000, 1_500_000, 3_000_000)


@dataclass(frozen=True)
class Channel:
    segment_s: float = 1.0
    window_segments: int = 30
    hls: bool = False
    # Listed before they are available (a server clock ahead, availabilityTimeOffset).
    ahead: int = 0
    last_number: int | None = None  # the channel ends after this segment (HLS: ENDLIST)
    # The encoder makes nothing in this span of driver time (the end may be inf).
    gone: tuple[float, float] | None = None
    late_s: float = 0.0  # a segment 404s until this long after its availability time
    update_period_s: float | None = None  # minimumUpdatePeriod (None: one segment)
    # Reloads made in this span of driver time get the copy of ten segments before it began
    # (an edge serving a stale copy).
    backwards: tuple[float, float] | None = None
    # A segment is listed only this long after its availability time (a CDN that keeps its
    # cached manifest a little past the next version's due time).
    listed_late_s: float = 0.0

    def made_at(self, n: int) -> float:
        """Driver time at which segment n is complete (HLS numbers only what was made)."""
        t = (n + 1) * self.segment_s
        if self.hls and self.gone is not None and t > self.gone[0]:
            t += self.gone[1] - self.gone[0]
        return t

    def number_available_at(self, n: int) -> float:
        return AST + self.made_at(n)

    def exists(self, n: int, now: float) -> bool:
        """Whether fetching segment n at driver time `now` finds it."""
        t = self.made_at(n)
        if not self.hls and self.gone is not None and self.gone[0] <= t < self.gone[1]:
            return False  # never made: its number was skipped
        return now + 1e-9 >= t + self.late_s

    def reload(self, now: float) -> Presentation:
        span = self.backwards
        if span is not None and span[0] <= now < span[1]:
            return self.load(span[0] - 10 * self.segment_s)
        return self.load(now)

    def load(self, now: float) -> Presentation:
        """The manifest as fetched at driver time `now`."""
        elapsed = now + OFFSET - AST
        if self.hls and self.gone is not None and elapsed > self.gone[0]:
            elapsed -= min(elapsed, self.gone[1]) - self.gone[0]
        newest = math.floor((elapsed - self.listed_late_s) / self.segment_s + 1e-9) - 1 + self.ahead
        ended = self.last_number is not None and newest >= self.last_number
        if self.last_number is not None:
            newest = min(newest, self.last_number)
        first = max(0, newest - self.window_segments + 1)
        numbers = range(first, newest + 1)
        renditions = tuple(
            Rendition(
                id=f"r{q}",
                bandwidth_bps=bps,
                segments=tuple(SegmentRef(f"r{q}/{n}.m4s", bps * self.segment_s) for n in numbers),
            )
            for q, bps in enumerate(BITRATES_BPS)
        )
        if self.hls:
            timeline = Timeline(
                live=not ended,
                ended=ended,
                first_number=first,
                start_is_absolute=False,
                window_s=len(numbers) * self.segment_s,
                refresh_s=self.segment_s,
            )
        else:
            timeline = Timeline(
                live=True,
                ended=ended,
                first_number=first,
                start_s=first * self.segment_s,
                availability_start_utc_s=AST,
                available_at_utc_s=tuple(self.number_available_at(n) for n in numbers),
                window_s=self.window_segments * self.segment_s,
                refresh_s=self.update_period_s or self.segment_s,
            )
        return Presentation(
            renditions, tuple(self.segment_s for _ in numbers), source="live", timeline=timeline
        )


@dataclass
class Run:
    """What a viewer would notice, sampled at every event."""

    commands: list[tuple[float, Command]] = field(default_factory=list)
    latency: list[tuple[float, float]] = field(default_factory=list)  # (now, latency) playing
    fetched: list[int] = field(default_factory=list)  # segment numbers requested
    # (rate, buffer level, latency) when each SetPlaybackRate was issued
    rate_changes: list[tuple[float, float, float]] = field(default_factory=list)

    def rates(self) -> list[float]:
        return [c.rate for _, c in self.commands if isinstance(c, SetPlaybackRate)]

    def first(self, kind: type) -> float | None:
        return next((t for t, c in self.commands if isinstance(c, kind)), None)

    def latency_between(self, start: float, end: float) -> list[float]:
        return [v for t, v in self.latency if start <= t <= end]


@dataclass
class LiveDriver:
    session: Session
    channel: Channel
    bandwidth_bps: float = 5_000_000.0
    rtt_s: float = 0.05
    outages: tuple[tuple[float, float], ...] = ()  # (start, end): nothing gets through
    run: Run = field(default_factory=Run)
    now: float = 0.0
    _queue: list[tuple[float, int, Event]] = field(default_factory=list)
    _seq: int = 0
    over: bool = False

    def start(self, at: float, **loaded: object) -> None:
        self.now = at
        presentation = self.channel.load(at)
        self.feed(ManifestLoaded(at, presentation, utc_offset_s=OFFSET, **loaded))  # type: ignore[arg-type]

    def at(self, when: float, event: Event) -> None:
        self._seq += 1
        heapq.heappush(self._queue, (when, self._seq, event))

    def feed(self, event: Event) -> None:
        self.now = event.now
        for command in self.session.handle(event):
            self.run.commands.append((event.now, command))
            self._carry_out(event.now, command)
        latency = self.session.live_latency_s
        if latency is not None and self.session.phase.value == "playing":
            self.run.latency.append((event.now, latency))

    def until(self, end: float) -> Run:
        while not self.over:
            wake = self.session.next_wakeup()
            when = self._queue[0][0] if self._queue else math.inf
            if wake is not None and wake < when:
                if wake > end:
                    break
                self.feed(Tick(max(wake, self.now)))
                continue
            if when > end:
                break
            _, _, event = heapq.heappop(self._queue)
            self.feed(event)
        return self.run

    def _carry_out(self, now: float, command: Command) -> None:
        if isinstance(command, FetchSegment):
            assert command.segment.url is not None
            number = int(command.segment.url.split("/")[1].split(".")[0])
            available = self.channel.number_available_at(number)
            assert available <= now + OFFSET + 1e-6, (
                f"segment {number} requested at {now + OFFSET}, available at {available}"
            )
            self.run.fetched.append(number)
            if not self.channel.exists(number, now):
                back = self._deliver(now, self.rtt_s)
                url = command.segment.url
                self.at(back, SegmentFailed(back, command.request_id, f"HTTP 404 for {url}", True))
                return
            first_byte = self._deliver(now, self.rtt_s)
            done = self._deliver(first_byte, command.segment.size_bits / self.bandwidth_bps)
            bytes_ = command.segment.size_bits / 8
            self.at(done, SegmentDone(done, command.request_id, bytes_, first_byte))
        elif isinstance(command, RefreshManifest):
            back = self._deliver(now, self.rtt_s)
            self.at(back, ManifestRefreshed(back, self.channel.reload(back)))
        elif isinstance(command, SetPlaybackRate):
            cap = self.session.config.live_max_rate_change
            assert 1 - cap - 1e-9 <= command.rate <= 1 + cap + 1e-9, command
            latency = self.session.live_latency_s
            assert latency is not None
            self.run.rate_changes.append((command.rate, self.session.buffer_s, latency))
        elif isinstance(command, PlaybackEnded | SessionFailed):
            self.over = True
        elif isinstance(command, StartPlayback):
            pass

    def _deliver(self, start: float, busy_s: float) -> float:
        """When `busy_s` of link time starting at `start` is done, outages not counting."""
        t, left = start, busy_s
        for a, b in sorted(self.outages):
            if b <= t:
                continue
            if t + left <= a:
                break
            left -= max(a - t, 0.0)
            t = b
        return t + left
