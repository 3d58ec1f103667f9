"""Events a driver feeds into `abr.session.Session`.

Every event carries `now`: the driver's clock in seconds (wall clock in the player, the
virtual clock in the simulator). The session never reads a clock of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

from abr.presentation import Presentation


@dataclass(slots=True, frozen=True)
class ManifestLoaded:
    """The presentation is known: the session starts (or restarts at `start_position_s`)."""

    now: float
    presentation: Presentation
    start_position_s: float = 0.0


@dataclass(slots=True, frozen=True)
class Tick:
    """Time has passed. Drivers send one at `Session.next_wakeup()` at the latest."""

    now: float


@dataclass(slots=True, frozen=True)
class BytesReceived:
    """Progress of an in-flight request: `received_bytes` so far (cumulative)."""

    now: float
    request_id: int
    received_bytes: float
    first_byte_at: float | None = None


@dataclass(slots=True, frozen=True)
class SegmentDone:
    """A requested segment arrived completely."""

    now: float
    request_id: int
    received_bytes: float
    first_byte_at: float  # when its first byte arrived: separates latency from transfer


@dataclass(slots=True, frozen=True)
class IndexLoaded:
    """The bytes a FetchIndex asked for arrived (all of them: the session parses them whole)."""

    now: float
    request_id: int
    data: bytes


@dataclass(slots=True, frozen=True)
class SegmentFailed:
    """A request (FetchSegment or FetchIndex) failed (HTTP error, time-out, truncated body).
    `reason` says what happened."""

    now: float
    request_id: int
    reason: str
    retryable: bool = True


@dataclass(slots=True, frozen=True)
class PlaybackPosition:
    """The renderer's actual media position (the player's truth; the simulator never sends it)."""

    now: float
    position_s: float


@dataclass(slots=True, frozen=True)
class Seek:
    now: float
    position_s: float


@dataclass(slots=True, frozen=True)
class Pause:
    now: float


@dataclass(slots=True, frozen=True)
class Resume:
    now: float


@dataclass(slots=True, frozen=True)
class QualityCapChanged:
    """Limit the ladder (window size, device class, data saver). None lifts a limit."""

    now: float
    max_height: int | None = None
    max_bandwidth_bps: int | None = None


Event = (
    ManifestLoaded
    | Tick
    | BytesReceived
    | SegmentDone
    | IndexLoaded
    | SegmentFailed
    | PlaybackPosition
    | Seek
    | Pause
    | Resume
    | QualityCapChanged
)
