"""A video description published as a live channel, for the lab's live mode.

Segment n of the channel (0-based) is being produced from AST + n x d and is complete, and
fetchable, from AST + (n + 1) x d, d the channel's segment duration. A load lists, DASH-like
(`SegmentTemplate` with `$Number$`, absolute times), a sliding window of the segments made so
far plus the one in production, each with its availability time: the session waits for the
newest one as a player reading the template does. Once the last segment of the description is
made the channel ends (the manifest says so) and the session plays out as VOD.

With `chunk_duration_s` (chunked CMAF, low-latency DASH) a segment is produced chunk by chunk:
chunk j of segment n is complete from AST + n x d + (j + 1) x c (the last one at the segment's
end), the segment is listed as fetchable once its first chunk is (availabilityTimeOffset
d - c), and a response streams each chunk as it is made (`TraceLink.produced_transfer`), so a
viewer can play less than a segment behind live.

With `segment_duration_s` the description's segments are re-cut to that duration: segment n
keeps the bitrate of the description's segment n (its size scaled by the ratio of durations),
so the ladder and its per-segment variation stay and the channel lasts N x d.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from abr.presentation import Presentation, Rendition, SegmentRef, Timeline
from simulator.errors import LiveSetupError

AST = 1_700_000_000.0  # the channel's availabilityStartTime (UTC seconds)


@dataclass(frozen=True, slots=True)
class LiveSetup:
    """How the lab publishes a video description live, and where the viewer joins."""

    target_latency_s: float
    segment_duration_s: float | None = None  # None: the description's own
    chunk_duration_s: float | None = None  # None: each segment is made and served whole

    def __post_init__(self) -> None:
        if not 0 < self.target_latency_s < math.inf:
            raise ValueError(
                f"target latency must be a positive number of seconds, not {self.target_latency_s!r}"
            )
        if self.segment_duration_s is not None and not 0 < self.segment_duration_s < math.inf:
            raise ValueError(
                f"segment duration must be a positive number of seconds, not "
                f"{self.segment_duration_s!r}"
            )
        if self.chunk_duration_s is not None:
            if not 0 < self.chunk_duration_s < math.inf:
                raise ValueError(
                    f"chunk duration must be a positive number of seconds, not "
                    f"{self.chunk_duration_s!r}"
                )
            if self.segment_duration_s is not None:
                _check_chunk(self.chunk_duration_s, self.segment_duration_s)


def _check_chunk(chunk_s: float, segment_s: float) -> None:
    if chunk_s > segment_s + 1e-9:
        raise LiveSetupError(
            f"chunk duration {chunk_s:g} s is longer than the segments ({segment_s:g} s)"
        )


def lead_s(target_latency_s: float, segment_s: float) -> float:
    """How long the channel has been on the air when its viewer joins: one segment more than
    the target, rounded up to whole segments (the join position is listed, and a segment's
    worth of media is made before it is due). The viewer joins at presentation time
    lead - target."""
    return (math.ceil(target_latency_s / segment_s - 1e-9) + 1) * segment_s


class LiveChannel:
    """The channel's manifests as fetched at any time, and when each segment exists.

    Driver time 0 is when the viewer joins: the channel went on air `lead_s` earlier, enough
    for the segment at the target latency to be listed.
    """

    __slots__ = (
        "_refs",
        "chunk_s",
        "count",
        "early_s",
        "lead_s",
        "offset_s",
        "segment_s",
        "video",
        "window",
    )

    def __init__(self, video: Presentation, setup: LiveSetup) -> None:
        d = setup.segment_duration_s or max(video.segment_durations_s)
        self.video = video
        self.segment_s = d
        self.chunk_s = d if setup.chunk_duration_s is None else setup.chunk_duration_s
        _check_chunk(self.chunk_s, d)
        self.early_s = d - self.chunk_s  # the availabilityTimeOffset
        self.count = video.segment_count
        self.lead_s = lead_s(setup.target_latency_s, d)
        self.offset_s = AST + self.lead_s  # the driver's clock in UTC: utc = now + offset_s
        # The DVR window: three targets and two segments, and never under 30 s.
        self.window = max(math.ceil(max(30.0, 3 * setup.target_latency_s + 2 * d) / d), 2)
        self._refs = tuple(
            tuple(
                SegmentRef(
                    f"{r.id}/{n}", r.segments[n].size_bits * d / video.segment_durations_s[n]
                )
                for n in range(self.count)
            )
            for r in video.renditions
        )

    def available_at(self, number: int) -> float:
        """Driver time from which segment `number` can be fetched (its first chunk is made)."""
        return (number + 1) * self.segment_s - self.early_s - self.lead_s

    def chunks(self, number: int, rendition: int) -> tuple[list[float], list[float]]:
        """When each chunk of segment `number` is made (driver time), and its bits."""
        d, c = self.segment_s, self.chunk_s
        first = self.available_at(number)
        ends = [min((j + 1) * c, d) for j in range(max(1, math.ceil(d / c - 1e-9)))]
        size = self.size_bits(number, rendition)
        bits = [size * (end - begin) / d for begin, end in zip([0.0, *ends], ends, strict=False)]
        return [first + (end - c) for end in ends], bits

    def size_bits(self, number: int, rendition: int) -> float:
        """Size of segment `number` in `rendition`, as every load lists it."""
        return self._refs[rendition][number].size_bits

    def number_of(self, segment: SegmentRef) -> int:
        assert segment.url is not None
        return int(segment.url.rpartition("/")[2])

    def load(self, now: float) -> Presentation:
        """The manifest as fetched at driver time `now`."""
        d = self.segment_s
        elapsed = now + self.lead_s
        in_production = math.floor(elapsed / d + 1e-9)  # made from AST + n d on
        newest = min(in_production, self.count - 1)
        ended = in_production >= self.count  # the last one is made: the channel is over
        first = max(0, newest - self.window + 1)
        end = newest + 1
        renditions = tuple(
            Rendition(id=r.id, bandwidth_bps=r.bandwidth_bps, segments=refs[first:end])
            for r, refs in zip(self.video.renditions, self._refs, strict=True)
        )
        timeline = Timeline(
            live=True,
            ended=ended,
            first_number=first,
            start_s=first * d,
            availability_start_utc_s=AST,
            available_at_utc_s=tuple(AST + (n + 1) * d - self.early_s for n in range(first, end)),
            availability_offset_s=self.early_s,
            window_s=self.window * d,
            refresh_s=d,
        )
        return Presentation(
            renditions, (d,) * (end - first), source="live channel", timeline=timeline
        )
