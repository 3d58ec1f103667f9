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
    # This segment's own initialization segment when it differs from its rendition's (a later
    # DASH Period, an HLS EXT-X-MAP after a discontinuity); None: the rendition's `init`.
    init: SegmentRef | None = None


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
class Period:
    """One DASH Period (or the whole of an HLS playlist) within the segment list."""

    id: str
    first_segment: int  # index of its first segment in `Presentation.segment_durations_s`
    start_s: float  # presentation time at which it starts


@dataclass(frozen=True, slots=True)
class UtcTiming:
    """A DASH UTCTiming element: how a driver can learn the server's wall-clock time."""

    scheme: str  # e.g. "urn:mpeg:dash:utc:http-iso:2014", "urn:mpeg:dash:utc:direct:2014"
    value: str  # a URL to fetch, or (direct) the time itself


@dataclass(frozen=True, slots=True)
class Timeline:
    """Where the segment list sits in time: static (VOD) or a window onto a live presentation.

    Positions: segment i starts at `start_s + Presentation.segment_start_s(i)` in presentation
    time; `start_s` is what keeps positions stable when a sliding window moves on a refresh.
    Numbers: segment i is number `first_number + i` (DASH $Number$, HLS media sequence), which
    is how two refreshes line up (`abr.manifests.live.refreshed`). All UTC times are epoch
    seconds.
    """

    live: bool = False  # DASH type="dynamic", an HLS playlist without EXT-X-ENDLIST
    # No segment will be added: static, HLS ENDLIST / PLAYLIST-TYPE:VOD, or a dynamic MPD with
    # mediaPresentationDuration and no minimumUpdatePeriod.
    ended: bool = True
    first_number: int = 0
    start_s: float = 0.0
    # True when `start_s` comes from the manifest itself (DASH times), False when it is only
    # known relative to an earlier load (HLS has no presentation clock).
    start_is_absolute: bool = True
    availability_start_utc_s: float | None = None  # DASH availabilityStartTime
    # Per segment, the UTC time from which it can be fetched; None when the source does not say
    # (HLS without EXT-X-PROGRAM-DATE-TIME): every listed segment is then available.
    available_at_utc_s: tuple[float, ...] | None = None
    # DASH availabilityTimeOffset (of the newest Period): segments are listed as fetchable this
    # much before they are complete (low-latency chunked delivery), but their media still went
    # live at its presentation time, so latency adds it back (`abr.liveedge`).
    availability_offset_s: float = 0.0
    window_s: float | None = None  # the DVR window: timeShiftBufferDepth, the playlist's span
    refresh_s: float | None = None  # minimumUpdatePeriod, or the HLS target duration
    suggested_delay_s: float | None = None  # suggestedPresentationDelay
    periods: tuple[Period, ...] = ()
    # Indices of the segments that begin a discontinuity (new timestamps or codec set-up).
    discontinuities: tuple[int, ...] = ()
    discontinuity_sequence: int = 0  # HLS EXT-X-DISCONTINUITY-SEQUENCE of segment 0
    utc_timing: tuple[UtcTiming, ...] = ()


# One shared value: every static presentation's timeline, built once.
STATIC = Timeline()


@dataclass(frozen=True, slots=True)
class Presentation:
    """Renditions sorted by bandwidth, sharing one segment timeline; `timeline` says whether it
    is VOD (the default) or a window onto a live presentation.

    Unindexed (`is_indexed` False): every rendition has an `index` and no segments yet, and the
    segment list is empty; nothing but the renditions means anything until
    `abr.manifests.with_indexes` builds the full presentation from the index boxes.
    """

    renditions: tuple[Rendition, ...]
    segment_durations_s: tuple[float, ...]
    audio_tracks: tuple[MediaTrack, ...] = ()
    subtitle_tracks: tuple[MediaTrack, ...] = ()
    source: str = ""  # URL or file name it was built from, for error messages
    timeline: Timeline = STATIC
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
