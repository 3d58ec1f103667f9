"""Commands `abr.session.Session` returns for its driver to carry out (or just to report)."""

from __future__ import annotations

from typing import NamedTuple

from abr.presentation import SegmentRef
from abr.values import distinct


@distinct
class FetchSegment(NamedTuple):
    """Download `segment` (and `init` first, if the driver does not hold it yet)."""

    request_id: int
    segment_index: int
    rendition_index: int
    segment: SegmentRef
    init: SegmentRef | None
    # Present when this request replaces one abandoned or failed before it.
    replaces_request_id: int | None = None


@distinct
class FetchIndex(NamedTuple):
    """Download the bytes at `ref` (a DASH rendition's sidx range) and answer with IndexLoaded,
    or SegmentFailed with this `request_id`: the same retries as a segment. (Not `index`: a
    NamedTuple has an `index` method.)"""

    request_id: int
    rendition_index: int
    ref: SegmentRef


@distinct
class AbortRequest(NamedTuple):
    request_id: int
    reason: str  # "abandoned", "seek"


@distinct
class FlushBuffer(NamedTuple):
    """Drop everything buffered: a seek lands outside it. Playback resumes at `position_s`."""

    position_s: float


@distinct
class StartPlayback(NamedTuple):
    """Enough media is buffered: start (or resume after a stall) at `position_s`."""

    at: float
    position_s: float


@distinct
class StallStarted(NamedTuple):
    at: float
    position_s: float


@distinct
class StallEnded(NamedTuple):
    at: float
    duration_s: float


@distinct
class PlaybackEnded(NamedTuple):
    at: float


@distinct
class RefreshManifest(NamedTuple):
    """Live: reload the manifest now and answer with ManifestRefreshed (or RefreshFailed). At
    most one is outstanding; the session asks at the `abr.manifests.next_reload_delay_s`
    cadence, which `Session.next_wakeup()` includes."""

    at: float


@distinct
class SetPlaybackRate(NamedTuple):
    """Live catch-up: play at `rate` x (1.0 normal), within 1 +- `live_max_rate_change`.
    Emitted only when the rate changes; the session's buffer accounting follows it."""

    at: float
    rate: float


@distinct
class SessionFailed(NamedTuple):
    """The session gave up: a segment failed more often than the retry budget allows."""

    at: float
    reason: str


Command = (
    FetchSegment
    | FetchIndex
    | AbortRequest
    | FlushBuffer
    | StartPlayback
    | StallStarted
    | StallEnded
    | PlaybackEnded
    | SessionFailed
    | RefreshManifest
    | SetPlaybackRate
)
