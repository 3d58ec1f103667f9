"""Where one stream's segments go on libmpv's clock: a constant shift per timeline run.

The video and a separate audio track each keep their own `Placement`: a stream's first run
goes through untouched (so a single-run presentation is played as packaged, A/V sync
included), and every later run (a DASH Period, the media after an HLS EXT-X-DISCONTINUITY)
is moved to where the presentation timeline places it, relative to that first run. Both
streams place runs on the same presentation timeline, so they stay in sync across a
boundary even though each run's own timestamps jump (see `player.timestamps`).
"""

from __future__ import annotations

from player.media_segment import MediaSegment
from player.timestamps import (
    TS_TIMESCALE,
    fmp4_start,
    fmp4_timescale,
    shift_fmp4,
    shift_ts,
    ts_start,
)
from player.ts_continuity import is_ts


class Placement:
    def __init__(self) -> None:
        # Media time minus presentation time, from the first segment placed: every run of
        # timestamps is moved to keep it (so time-pos stays comparable across seeks too).
        self._media_offset_s: float | None = None
        self._shifts_s: dict[int, float] = {}  # per timeline run, what its timestamps move by
        self._timescales: dict[bytes, int | None] = {}  # per init segment

    def placed(self, segment: MediaSegment) -> bytes:
        """The segment's bytes with their timestamps moved (MPEG-TS, or fMP4 with an init)."""
        if is_ts(segment.data):
            return self._placed_ts(segment)
        return self._placed_fmp4(segment)

    def _shift_s(self, segment: MediaSegment, media_s: float) -> float:
        """How far this segment's timeline run moves: 0 for the first run placed."""
        if segment.anchored:
            # Live: each segment on its own, as a window's runs have no stable names (a Period
            # sliding out renumbers them) and the manifest's times are the reference anyway.
            return segment.start_s - media_s
        if self._media_offset_s is None:
            self._media_offset_s = media_s - segment.start_s
        if segment.timeline not in self._shifts_s:
            target = self._media_offset_s + segment.start_s
            # A run that would move before 0 (played first from a later Period, then seeked
            # back) keeps its own timestamps: playable, time-pos just not comparable.
            self._shifts_s[segment.timeline] = target - media_s if target >= 0 else 0.0
        return self._shifts_s[segment.timeline]

    def _placed_ts(self, segment: MediaSegment) -> bytes:
        start = ts_start(segment.data)
        if start is None:
            return segment.data
        ticks = round(self._shift_s(segment, start / TS_TIMESCALE) * TS_TIMESCALE)
        return shift_ts(segment.data, ticks) if ticks else segment.data

    def _placed_fmp4(self, segment: MediaSegment) -> bytes:
        if segment.init is None:
            return segment.data
        if segment.init not in self._timescales:
            self._timescales[segment.init] = fmp4_timescale(segment.init)
        timescale = self._timescales[segment.init]
        start = fmp4_start(segment.data)
        if timescale is None or start is None:
            return segment.data
        ticks = round(self._shift_s(segment, start / timescale) * timescale)
        return shift_fmp4(segment.data, ticks) if ticks else segment.data
