"""Events a driver feeds into `abr.session.Session`.

Every event carries `now`: the driver's clock in seconds (wall clock in the player, the
virtual clock in the simulator). The session never reads a clock of its own.
"""

from __future__ import annotations

from typing import NamedTuple

from abr.presentation import Presentation
from abr.values import distinct


@distinct
class ManifestLoaded(NamedTuple):
    """The presentation is known: the session starts (or restarts at `start_position_s`).

    Live (`presentation.timeline.live`): `start_position_s` is ignored; the session joins at
    `join_at_s` (presentation time, `timeline.start_s`-based, clamped to the window) when given,
    else at the live edge minus the target latency. A live presentation needs the driver's UTC
    offset, here as `utc_offset_s` or from an earlier ClockSynced: without either the session
    raises SessionError.
    """

    now: float
    presentation: Presentation
    start_position_s: float = 0.0
    join_at_s: float | None = None
    utc_offset_s: float | None = None


@distinct
class ClockSynced(NamedTuple):
    """The driver's clock maps to UTC (epoch seconds) as `utc = now + utc_offset_s`.

    The player: from a DASH UTCTiming fetch, else `time.time() - monotonic()`; the simulator:
    any fixed value. May come again later (a re-sync); the latest one counts.
    """

    now: float
    utc_offset_s: float


@distinct
class ManifestRefreshed(NamedTuple):
    """A live manifest reload the driver fetched and parsed (DASH: with `now_utc_s` = its UTC
    now), answering RefreshManifest. The session lines it up with `abr.manifests.refreshed`."""

    now: float
    presentation: Presentation


@distinct
class RefreshFailed(NamedTuple):
    """The reload a RefreshManifest asked for failed (HTTP error, time-out, a manifest that
    does not parse or goes backwards): the session asks again after a back-off."""

    now: float
    reason: str


@distinct
class GoLive(NamedTuple):
    """Jump back to the live edge minus the target latency (a seek the session computes)."""

    now: float


@distinct
class Tick(NamedTuple):
    """Time has passed. Drivers send one at `Session.next_wakeup()` at the latest."""

    now: float


@distinct
class BytesReceived(NamedTuple):
    """Progress of an in-flight request: `received_bytes` so far (cumulative)."""

    now: float
    request_id: int
    received_bytes: float
    first_byte_at: float | None = None


@distinct
class SegmentDone(NamedTuple):
    """A requested segment arrived completely."""

    now: float
    request_id: int
    received_bytes: float
    first_byte_at: float  # when its first byte arrived: separates latency from transfer


@distinct
class IndexLoaded(NamedTuple):
    """The bytes a FetchIndex asked for arrived (all of them: the session parses them whole)."""

    now: float
    request_id: int
    data: bytes


@distinct
class SegmentFailed(NamedTuple):
    """A request (FetchSegment or FetchIndex) failed (HTTP error, time-out, truncated body).
    `reason` says what happened."""

    now: float
    request_id: int
    reason: str
    retryable: bool = True


@distinct
class PlaybackPosition(NamedTuple):
    """The renderer's actual media position (the player's truth; the simulator never sends it)."""

    now: float
    position_s: float


@distinct
class Seek(NamedTuple):
    """Play from `position_s`. Live: presentation time (`timeline.start_s`-based, as
    `abr.manifests.refreshed` keeps it), clamped to the DVR window (behind its start: its start).
    """

    now: float
    position_s: float


@distinct
class Pause(NamedTuple):
    now: float


@distinct
class Resume(NamedTuple):
    now: float


@distinct
class QualityCapChanged(NamedTuple):
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
    | ClockSynced
    | ManifestRefreshed
    | RefreshFailed
    | GoLive
)
