"""A live channel's presentation timeline across encoder runs: every published segment with
its channel-wide number, the runs (one DASH Period and one HLS discontinuity each), the DVR
window manifests list, and which segments have aged out of it far enough to delete.

Numbers are channel-wide and only grow: a new run's first segment takes the number after the
highest one published so far, whatever ffmpeg calls it."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Segment:
    number: int  # channel-wide
    run: int  # ordinal of the run that encoded it
    t: int  # media time in its track's timescale
    d: int


@dataclass
class Run:
    ordinal: int  # 0, 1, …: runs that published at least one segment
    period_start: float  # seconds after availabilityStartTime
    base: int  # channel-wide number of ffmpeg's segment 1 in this run
    period: ET.Element  # ffmpeg's Period for this run: the template of ours
    t0: dict[str, int] = field(default_factory=dict)  # per track: media time of its first segment


@dataclass
class Timeline:
    segment_seconds: int
    dvr_seconds: int
    availability_start: float | None = None  # wall time (epoch s) of presentation time 0
    runs: list[Run] = field(default_factory=list)
    segments: dict[str, list[Segment]] = field(default_factory=dict)
    timescales: dict[str, int] = field(default_factory=dict)
    content_types: dict[str, str] = field(default_factory=dict)

    @property
    def window_count(self) -> int:
        """Segments a manifest lists: the DVR depth, and never fewer than the three target
        durations an HLS client keeps back from the live edge."""
        return max(3, math.ceil(self.dvr_seconds / self.segment_seconds))

    @property
    def next_number(self) -> int:
        return 1 + max((s[-1].number for s in self.segments.values() if s), default=0)

    def start_run(self, period: ET.Element, now: float, first_duration: float) -> Run:
        """A run whose first segment (`first_duration` s long) was just seen complete at
        `now`: its Period starts when that segment began, and never before the previous
        run's media ends, so Periods stay in order even if clocks disagree."""
        began = now - first_duration
        if self.availability_start is None:
            self.availability_start = began
        start = began - self.availability_start
        if self.runs:
            start = max(start, self.media_end())
        run = Run(len(self.runs), round(start, 3), self.next_number, period)
        self.runs.append(run)
        return run

    def media_end(self) -> float:
        """Presentation time (s) where the last published media of any track ends."""
        ends = [
            self.presentation_end(track, segs[-1]) for track, segs in self.segments.items() if segs
        ]
        return max(ends, default=0.0)

    def presentation_start(self, track: str, seg: Segment) -> float:
        run = self.runs[seg.run]
        return run.period_start + (seg.t - run.t0[track]) / self.timescales[track]

    def presentation_end(self, track: str, seg: Segment) -> float:
        return self.presentation_start(track, seg) + seg.d / self.timescales[track]

    def add(
        self, track: str, content_type: str, timescale: int, run: Run, number: int, t: int, d: int
    ) -> Segment:
        self.timescales.setdefault(track, timescale)
        self.content_types.setdefault(track, content_type)
        run.t0.setdefault(track, t)
        seg = Segment(run.base + number - 1, run.ordinal, t, d)
        self.segments.setdefault(track, []).append(seg)
        return seg

    def window(self, track: str) -> list[Segment]:
        return self.segments.get(track, [])[-self.window_count :]

    def prune(self) -> dict[str, list[Segment]]:
        """Forget, and return for deletion, segments that left the window more than a
        window plus one segment ago: the HLS rule (RFC 8216 6.2.2) for how long a segment
        must stay available after it leaves the playlist."""
        keep = 2 * self.window_count + 1
        gone: dict[str, list[Segment]] = {}
        for track, segs in self.segments.items():
            if len(segs) > keep:
                gone[track] = segs[: len(segs) - keep]
                del segs[: len(segs) - keep]
        return gone

    def live_runs(self) -> list[int]:
        """Ordinals of runs that still have a segment on disk (their init must stay)."""
        return sorted({s.run for segs in self.segments.values() for s in segs})
