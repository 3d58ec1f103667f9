"""Commands `abr.session.Session` returns for its driver to carry out (or just to report)."""

from __future__ import annotations

from dataclasses import dataclass

from abr.presentation import SegmentRef


@dataclass(slots=True, frozen=True)
class FetchSegment:
    """Download `segment` (and `init` first, if the driver does not hold it yet)."""

    request_id: int
    segment_index: int
    rendition_index: int
    segment: SegmentRef
    init: SegmentRef | None
    # Present when this request replaces one abandoned or failed before it.
    replaces_request_id: int | None = None


@dataclass(slots=True, frozen=True)
class FetchIndex:
    """Download the bytes of `index` (a DASH rendition's sidx range) and answer with IndexLoaded,
    or SegmentFailed with this `request_id`: the same retries as a segment."""

    request_id: int
    rendition_index: int
    index: SegmentRef


@dataclass(slots=True, frozen=True)
class AbortRequest:
    request_id: int
    reason: str  # "abandoned", "seek"


@dataclass(slots=True, frozen=True)
class FlushBuffer:
    """Drop everything buffered: a seek lands outside it. Playback resumes at `position_s`."""

    position_s: float


@dataclass(slots=True, frozen=True)
class StartPlayback:
    """Enough media is buffered: start (or resume after a stall) at `position_s`."""

    at: float
    position_s: float


@dataclass(slots=True, frozen=True)
class StallStarted:
    at: float
    position_s: float


@dataclass(slots=True, frozen=True)
class StallEnded:
    at: float
    duration_s: float


@dataclass(slots=True, frozen=True)
class PlaybackEnded:
    at: float


@dataclass(slots=True, frozen=True)
class SessionFailed:
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
)
