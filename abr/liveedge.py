"""Where a live session stands against the live edge: latency, the join point, the DVR window,
the catch-up rate and the latency statistics. Pure arithmetic for `abr.session.Session`.

Positions are presentation time (`Timeline.start_s`-based, which `abr.manifests.refreshed`
keeps stable across reloads); times are UTC epoch seconds.

Latency of a position p: the UTC time now minus the UTC time at which the media at p was
live. That time is its segment's availability time less the media after p in that segment:
    live_at(p) = available_at[i] - (start_s + segment_end(i) - p),  i the segment holding p
For DASH that is availabilityStartTime + Period@start + p (the parser's availability times
less the availabilityTimeOffset they were moved earlier by: a low-latency channel serves a
segment while it is being made, but its media went live when it was made);
for HLS with EXT-X-PROGRAM-DATE-TIME it is the segment's date-time plus the offset into it.
Without availability times (HLS without date-times) a segment counts as live when the first
load that listed it was made: then latency is the distance from p to the live edge of that
load, plus the time since it (the edge moves on in real time between loads).
"""

from __future__ import annotations

import math

from abr.manifests.live import Refresh
from abr.presentation import Presentation

# p95 from a histogram: latency rounded to this many seconds (exact enough for a report).
_BIN_S = 0.05


class LiveEdge:
    """The availability time of every listed segment, kept across reloads."""

    __slots__ = ("available_utc_s", "ended", "presentation")

    def __init__(self, presentation: Presentation, load_utc_s: float) -> None:
        self.presentation = presentation
        self.ended = presentation.timeline.ended
        self.available_utc_s = self._times(presentation, load_utc_s, [], 0)

    def refresh(self, refresh: Refresh, load_utc_s: float) -> None:
        """Take a reload lined up by `abr.manifests.refreshed`."""
        kept = self.available_utc_s[refresh.dropped :] if not refresh.reset else []
        self.presentation = refresh.presentation
        self.ended = refresh.ended
        self.available_utc_s = self._times(refresh.presentation, load_utc_s, kept, refresh.dropped)

    @staticmethod
    def _times(
        presentation: Presentation, load_utc_s: float, kept: list[float], dropped: int
    ) -> list[float]:
        stated = presentation.timeline.available_at_utc_s
        if stated is not None:
            return list(stated)
        # Unstated: a segment went live no later than the load that first listed it, at the
        # edge of that load.
        times = kept[: presentation.segment_count]
        edge = presentation.duration_s
        for i in range(len(times), presentation.segment_count):
            times.append(load_utc_s - (edge - presentation.segment_end_s(i)))
        return times

    @property
    def start_s(self) -> float:
        """Presentation time of the window's start (the first listed segment's start)."""
        return self.presentation.timeline.start_s

    @property
    def end_s(self) -> float:
        """Presentation time of the last listed segment's end."""
        return self.presentation.timeline.start_s + self.presentation.duration_s

    def live_at_utc_s(self, position_s: float) -> float:
        """When the media at `position_s` was live (see the module docstring); outside the
        listed segments, extrapolated from the nearest one."""
        p = self.presentation
        local = position_s - p.timeline.start_s
        i = p.segment_at(local)
        early = p.timeline.availability_offset_s
        return self.available_utc_s[i] + early - (p.segment_end_s(i) - local)

    def edge_s(self, now_utc_s: float) -> float:
        """The live edge: the position whose latency is zero now (beyond the listed segments
        when the last load is older than its last segment)."""
        last = self.presentation.segment_count - 1
        early = self.presentation.timeline.availability_offset_s
        return self.end_s + (now_utc_s - self.available_utc_s[last] - early)

    def latency_s(self, position_s: float, now_utc_s: float) -> float:
        return now_utc_s - self.live_at_utc_s(position_s)

    def position_at_latency(self, latency_s: float, now_utc_s: float) -> float:
        """The position whose latency is `latency_s`, within the window and no later than the
        last listed segment's start (a later one is not listed yet)."""
        p = self.presentation
        latest = p.timeline.start_s + p.segment_start_s(p.segment_count - 1)
        return min(max(self.edge_s(now_utc_s) - latency_s, self.start_s), latest)


def catch_up_rate(
    latency_s: float,
    target_s: float,
    buffer_s: float,
    safe_buffer_s: float,
    max_change: float,
    rate: float,
) -> float:
    """The playback rate that steers `latency_s` to `target_s`, rounded to 0.01.

    Proportional on the error, full `max_change` at one second off, with a dead band of
    max(0.2 s, 5 % of the target): entered at half its width, left at its full width, so the
    rate does not flicker at the band's edge. Never faster than 1 while the buffer is below
    `safe_buffer_s` (speeding up would drain it into a stall; to start speeding up it takes
    1.5x that, so a buffer hovering at the level does not toggle the rate), and slower than 1
    in proportion once it is below half of that (like dash.js's low-latency buffer rule).
    """
    band = max(0.2, 0.05 * target_s)
    error = latency_s - target_s
    inside = band / 2 if rate != 1.0 else band
    wanted = 1.0 if abs(error) <= inside else 1.0 + max(-1.0, min(1.0, error)) * max_change
    enough = safe_buffer_s if rate > 1.0 else 1.5 * safe_buffer_s
    if buffer_s < enough and wanted > 1.0:
        wanted = 1.0
    low = safe_buffer_s / 2
    if buffer_s < low:
        wanted = min(wanted, 1.0 - max_change * (1.0 - buffer_s / low))
    return round(wanted, 2)


class LatencyStats:
    """Time-weighted latency: mean and 95th percentile, in constant memory per 50 ms bin."""

    __slots__ = ("_bins", "_sum", "_time")

    def __init__(self) -> None:
        self._bins: dict[int, float] = {}
        self._sum = 0.0
        self._time = 0.0

    def add(self, latency_s: float, dt: float) -> None:
        if dt <= 0 or not math.isfinite(latency_s):
            return
        self._sum += latency_s * dt
        self._time += dt
        key = round(latency_s / _BIN_S)
        self._bins[key] = self._bins.get(key, 0.0) + dt

    @property
    def mean_s(self) -> float | None:
        return self._sum / self._time if self._time > 0 else None

    @property
    def p95_s(self) -> float | None:
        if self._time <= 0:
            return None
        need = 0.95 * self._time
        seen = 0.0
        for key in sorted(self._bins):
            seen += self._bins[key]
            if seen >= need - 1e-12:
                return key * _BIN_S
        return max(self._bins) * _BIN_S
