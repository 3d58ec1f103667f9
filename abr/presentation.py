"""The presentation model: what can be played, independent of where it came from.

Built from HLS playlists, DASH MPDs or Sabre-style video JSON by the parsers in
`abr.manifests`; consumed by the session and the ABR algorithms. Pure data.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """Where one segment of one rendition lives, and how big it is."""

    url: str | None
    size_bits: float
    # True when the size was not announced by the source and is bandwidth x duration.
    size_is_estimate: bool = False
    byte_range: tuple[int, int] | None = None  # inclusive (first, last) byte offsets


@dataclass(frozen=True, slots=True)
class Rendition:
    """One rung of the video ladder."""

    id: str
    bandwidth_bps: int
    segments: tuple[SegmentRef, ...]
    width: int | None = None
    height: int | None = None
    codecs: str | None = None
    frame_rate: float | None = None
    init: SegmentRef | None = None
    # DASH SegmentBase: the byte range of the rendition's segment index (its sidx box), which
    # must be read before `segments` are known (see `Presentation.is_indexed`).
    index: SegmentRef | None = None

    @property
    def bitrate_kbps(self) -> float:
        return self.bandwidth_bps / 1000.0


@dataclass(frozen=True, slots=True)
class MediaTrack:
    """An alternative audio or subtitle track."""

    kind: str  # "audio" or "subtitles"
    id: str
    language: str | None = None
    name: str | None = None
    url: str | None = None
    codecs: str | None = None
    is_default: bool = False


@dataclass(frozen=True, slots=True)
class Presentation:
    """A VOD presentation: renditions sorted by bandwidth, sharing one segment timeline.

    Unindexed (`is_indexed` False): every rendition has an `index` and no segments yet, and the
    timeline is empty; nothing but the renditions means anything until
    `abr.manifests.with_indexes` builds the full presentation from the index boxes.
    """

    renditions: tuple[Rendition, ...]
    segment_durations_s: tuple[float, ...]
    audio_tracks: tuple[MediaTrack, ...] = ()
    subtitle_tracks: tuple[MediaTrack, ...] = ()
    source: str = ""  # URL or file name it was built from, for error messages
    _starts: tuple[float, ...] = field(default=(), init=False, repr=False, compare=False)
    _sizes: tuple[tuple[float, ...], ...] = field(default=(), init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.renditions:
            raise ValueError(f"{self.source or 'presentation'}: no renditions")
        n = len(self.segment_durations_s)
        # No segments is allowed only while unindexed (see the class docstring).
        if n == 0 and any(r.index is None or r.segments for r in self.renditions):
            raise ValueError(f"{self.source or 'presentation'}: no segments")
        for r in self.renditions:
            if len(r.segments) != n:
                raise ValueError(
                    f"{self.source or 'presentation'}: rendition {r.id!r} has "
                    f"{len(r.segments)} segments, the timeline has {n}"
                )
        bandwidths = [r.bandwidth_bps for r in self.renditions]
        if bandwidths != sorted(bandwidths):
            raise ValueError(f"{self.source or 'presentation'}: renditions not sorted by bandwidth")
        if n == 0:
            return  # unindexed: no timeline to precompute
        starts = [0.0]
        for d in self.segment_durations_s[:-1]:
            starts.append(starts[-1] + d)
        object.__setattr__(self, "_starts", tuple(starts))
        sizes = tuple(tuple(r.segments[i].size_bits for r in self.renditions) for i in range(n))
        object.__setattr__(self, "_sizes", sizes)

    @property
    def is_indexed(self) -> bool:
        return bool(self.segment_durations_s)

    @property
    def segment_count(self) -> int:
        return len(self.segment_durations_s)

    @property
    def duration_s(self) -> float:
        return self._starts[-1] + self.segment_durations_s[-1]

    @property
    def bitrates_kbps(self) -> tuple[float, ...]:
        return tuple(r.bitrate_kbps for r in self.renditions)

    def segment_start_s(self, index: int) -> float:
        return self._starts[index]

    def segment_at(self, position_s: float) -> int:
        """Index of the segment that holds media time `position_s` (clamped to the timeline)."""
        lo, hi = 0, len(self._starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._starts[mid] <= position_s:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def size_table_bits(self) -> list[list[float]]:
        """sizes[segment][rendition] in bits: the layout the algorithms read on the hot path."""
        return [list(row) for row in self._sizes]

    def segment_end_s(self, index: int) -> float:
        return self._starts[index] + self.segment_durations_s[index]
