"""A downloaded segment as a sink gets it (video from the engine, audio from its follower)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class MediaSegment:
    """A downloaded segment as a sink gets it: its bytes and where they belong."""

    index: int
    rendition: int
    data: bytes
    init: bytes | None  # its initialization segment: its rendition's, or its own Period's
    start_s: float  # where the presentation timeline places it
    # Which run of continuous media timestamps it is in: one more after each DASH Period
    # boundary or HLS EXT-X-DISCONTINUITY (where the timestamps may jump).
    timeline: int
    # Live: its timestamps become its presentation time, segment by segment, so libmpv's
    # time-pos is the session's position (VOD keeps the first run's own timestamps and moves
    # later runs relative to it).
    anchored: bool = False
