"""Commands `abr.session.Session` returns for its driver to carry out (or just to report)."""

from __future__ import annotations

from typing import Final

from abr.presentation import SegmentRef
from abr.values import Value


class FetchSegment(Value):
    """Download `segment` (and `init` first, if the driver does not hold it yet)."""

    __slots__ = (
        "request_id",
        "segment_index",
        "rendition_index",
        "segment",
        "init",
        "replaces_request_id",
    )

    def __init__(
        self,
        request_id: int,
        segment_index: int,
        rendition_index: int,
        segment: SegmentRef,
        init: SegmentRef | None,
        replaces_request_id: int | None = None,
    ) -> None:
        self.request_id: Final = request_id
        self.segment_index: Final = segment_index
        self.rendition_index: Final = rendition_index
        self.segment: Final = segment
        self.init: Final = init
        # Present when this request replaces one abandoned or failed before it.
        self.replaces_request_id: Final = replaces_request_id


class FetchIndex(Value):
    """Download the bytes at `ref` (a DASH rendition's sidx range) and answer with IndexLoaded,
    or SegmentFailed with this `request_id`: the same retries as a segment."""

    __slots__ = ("request_id", "rendition_index", "ref")

    def __init__(self, request_id: int, rendition_index: int, ref: SegmentRef) -> None:
        self.request_id: Final = request_id
        self.rendition_index: Final = rendition_index
        self.ref: Final = ref


class AbortRequest(Value):
    __slots__ = ("request_id", "reason")

    def __init__(self, request_id: int, reason: str) -> None:
        self.request_id: Final = request_id
        self.reason: Final = reason  # "abandoned", "seek"


class FlushBuffer(Value):
    """Drop everything buffered: a seek lands outside it. Playback resumes at `position_s`."""

    __slots__ = ("position_s",)

    def __init__(self, position_s: float) -> None:
        self.position_s: Final = position_s


class StartPlayback(Value):
    """Enough media is buffered: start (or resume after a stall) at `position_s`."""

    __slots__ = ("at", "position_s")

    def __init__(self, at: float, position_s: float) -> None:
        self.at: Final = at
        self.position_s: Final = position_s


class StallStarted(Value):
    __slots__ = ("at", "position_s")

    def __init__(self, at: float, position_s: float) -> None:
        self.at: Final = at
        self.position_s: Final = position_s


class StallEnded(Value):
    __slots__ = ("at", "duration_s")

    def __init__(self, at: float, duration_s: float) -> None:
        self.at: Final = at
        self.duration_s: Final = duration_s


class PlaybackEnded(Value):
    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at: Final = at


class RefreshManifest(Value):
    """Live: reload the manifest now and answer with ManifestRefreshed (or RefreshFailed). At
    most one is outstanding; the session asks at the `abr.manifests.next_reload_delay_s`
    cadence, which `Session.next_wakeup()` includes."""

    __slots__ = ("at",)

    def __init__(self, at: float) -> None:
        self.at: Final = at


class SetPlaybackRate(Value):
    """Live catch-up: play at `rate` x (1.0 normal), within 1 +- `live_max_rate_change`.
    Emitted only when the rate changes; the session's buffer accounting follows it."""

    __slots__ = ("at", "rate")

    def __init__(self, at: float, rate: float) -> None:
        self.at: Final = at
        self.rate: Final = rate


class SessionFailed(Value):
    """The session gave up: a segment failed more often than the retry budget allows."""

    __slots__ = ("at", "reason")

    def __init__(self, at: float, reason: str) -> None:
        self.at: Final = at
        self.reason: Final = reason


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
