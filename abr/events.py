"""Events a driver feeds into `abr.session.Session`.

Every event carries `now`: the driver's clock in seconds (wall clock in the player, the
virtual clock in the simulator). The session never reads a clock of its own.
"""

from __future__ import annotations

from typing import Final

from abr.presentation import Presentation
from abr.values import Value


class ManifestLoaded(Value):
    """The presentation is known: the session starts (or restarts at `start_position_s`).

    Live (`presentation.timeline.live`): `start_position_s` is ignored; the session joins at
    `join_at_s` (presentation time, `timeline.start_s`-based, clamped to the window) when given,
    else at the live edge minus the target latency. A live presentation needs the driver's UTC
    offset, here as `utc_offset_s` or from an earlier ClockSynced: without either the session
    raises SessionError.
    """

    __slots__ = ("now", "presentation", "start_position_s", "join_at_s", "utc_offset_s")

    def __init__(
        self,
        now: float,
        presentation: Presentation,
        start_position_s: float = 0.0,
        join_at_s: float | None = None,
        utc_offset_s: float | None = None,
    ) -> None:
        self.now: Final = now
        self.presentation: Final = presentation
        self.start_position_s: Final = start_position_s
        self.join_at_s: Final = join_at_s
        self.utc_offset_s: Final = utc_offset_s


class ClockSynced(Value):
    """The driver's clock maps to UTC (epoch seconds) as `utc = now + utc_offset_s`.

    The player: from a DASH UTCTiming fetch, else `time.time() - monotonic()`; the simulator:
    any fixed value. May come again later (a re-sync); the latest one counts.
    """

    __slots__ = ("now", "utc_offset_s")

    def __init__(self, now: float, utc_offset_s: float) -> None:
        self.now: Final = now
        self.utc_offset_s: Final = utc_offset_s


class ManifestRefreshed(Value):
    """A live manifest reload the driver fetched and parsed (DASH: with `now_utc_s` = its UTC
    now), answering RefreshManifest. The session lines it up with `abr.manifests.refreshed`."""

    __slots__ = ("now", "presentation")

    def __init__(self, now: float, presentation: Presentation) -> None:
        self.now: Final = now
        self.presentation: Final = presentation


class RefreshFailed(Value):
    """The reload a RefreshManifest asked for failed (HTTP error, time-out, a manifest that
    does not parse or goes backwards): the session asks again after a back-off."""

    __slots__ = ("now", "reason")

    def __init__(self, now: float, reason: str) -> None:
        self.now: Final = now
        self.reason: Final = reason


class GoLive(Value):
    """Jump back to the live edge minus the target latency (a seek the session computes)."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now: Final = now


class Tick(Value):
    """Time has passed. Drivers send one at `Session.next_wakeup()` at the latest."""

    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now: Final = now


class BytesReceived(Value):
    """Progress of an in-flight request: `received_bytes` so far (cumulative)."""

    __slots__ = ("now", "request_id", "received_bytes", "first_byte_at", "media_s")

    def __init__(
        self,
        now: float,
        request_id: int,
        received_bytes: float,
        first_byte_at: float | None = None,
        media_s: float | None = None,
    ) -> None:
        self.now: Final = now
        self.request_id: Final = request_id
        self.received_bytes: Final = received_bytes
        self.first_byte_at: Final = first_byte_at
        # Seconds of the segment's media playable already (a chunked low-latency response:
        # its whole chunks so far), when the driver knows; the buffer grows by them.
        self.media_s: Final = media_s


class SegmentDone(Value):
    """A requested segment arrived completely."""

    __slots__ = ("now", "request_id", "received_bytes", "first_byte_at", "transfer_s")

    def __init__(
        self,
        now: float,
        request_id: int,
        received_bytes: float,
        first_byte_at: float,
        transfer_s: float | None = None,
    ) -> None:
        self.now: Final = now
        self.request_id: Final = request_id
        self.received_bytes: Final = received_bytes
        self.first_byte_at: Final = (
            first_byte_at  # when its first byte arrived: separates latency from transfer
        )
        # The time bytes were arriving, when the driver knows it is less than now minus
        # first_byte_at: a low-latency live segment streams as the encoder makes it, and the
        # waits between its chunks say how fast the encoder is, not the link. The throughput
        # estimate uses it (None: now - first_byte_at).
        self.transfer_s: Final = transfer_s


class IndexLoaded(Value):
    """The bytes a FetchIndex asked for arrived (all of them: the session parses them whole)."""

    __slots__ = ("now", "request_id", "data")

    def __init__(self, now: float, request_id: int, data: bytes) -> None:
        self.now: Final = now
        self.request_id: Final = request_id
        self.data: Final = data


class SegmentFailed(Value):
    """A request (FetchSegment or FetchIndex) failed (HTTP error, time-out, truncated body).
    `reason` says what happened."""

    __slots__ = ("now", "request_id", "reason", "retryable")

    def __init__(self, now: float, request_id: int, reason: str, retryable: bool = True) -> None:
        self.now: Final = now
        self.request_id: Final = request_id
        self.reason: Final = reason
        self.retryable: Final = retryable


class PlaybackPosition(Value):
    """The renderer's actual media position (the player's truth; the simulator never sends it)."""

    __slots__ = ("now", "position_s")

    def __init__(self, now: float, position_s: float) -> None:
        self.now: Final = now
        self.position_s: Final = position_s


class Seek(Value):
    """Play from `position_s`. Live: presentation time (`timeline.start_s`-based, as
    `abr.manifests.refreshed` keeps it), clamped to the DVR window (behind its start: its start).
    """

    __slots__ = ("now", "position_s")

    def __init__(self, now: float, position_s: float) -> None:
        self.now: Final = now
        self.position_s: Final = position_s


class Pause(Value):
    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now: Final = now


class Resume(Value):
    __slots__ = ("now",)

    def __init__(self, now: float) -> None:
        self.now: Final = now


class QualityCapChanged(Value):
    """Limit the ladder (window size, device class, data saver). None lifts a limit."""

    __slots__ = ("now", "max_height", "max_bandwidth_bps")

    def __init__(
        self, now: float, max_height: int | None = None, max_bandwidth_bps: int | None = None
    ) -> None:
        self.now: Final = now
        self.max_height: Final = max_height
        self.max_bandwidth_bps: Final = max_bandwidth_bps


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
    | ClockSynced
    | ManifestRefreshed
    | RefreshFailed
    | GoLive
)
