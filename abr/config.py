"""Session settings: the knobs of start-up, buffering, abandonment and retries."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SessionConfig:
    # Look-ahead: request the next segment only while buffer + that segment fits the target.
    buffer_target_s: float | None = None  # None: `buffer_target_segments` segments
    buffer_target_segments: int = 4
    # Media needed before playback starts, and before it resumes after a stall.
    startup_buffer_s: float | None = None  # None: one segment
    resume_buffer_s: float | None = None  # None: one segment
    # "lowest": the first segment comes from the lowest rendition (fast first frame);
    # "estimate": the algorithm decides, from `initial_throughput_kbps` if given.
    first_rendition: str = "lowest"
    initial_throughput_kbps: float | None = None
    abandonment: bool = True
    # Abandonment checks: first after this much time in flight, then adaptively.
    abandon_check_after_s: float = 0.5
    abandon_check_interval_s: float = 0.25
    ewma_half_lives_s: tuple[float, float] = (3.0, 9.0)
    max_retries: int = 6
    retry_backoff_s: float = 0.5
    retry_backoff_max_s: float = 8.0
    # Live only. The latency the session joins at and holds (see `Session` for its definition);
    # None: three segment durations, as hls.js.
    live_target_latency_s: float | None = None
    # Catch-up plays at 1 +- this at most (dash.js: 0.1; beyond it the pitch change is heard).
    live_max_rate_change: float = 0.1
    # A stall longer than this re-joins at the target latency instead of playing on behind it;
    # None: twice the target latency.
    live_resync_after_stall_s: float | None = None
    # A live channel that brings nothing new to play for this long (stalled, no segment fetched:
    # the playlist stopped updating, reloads or segments failing, the encoder gone) ends the
    # session with the reason; until then it keeps reloading and retrying, and resumes when
    # segments come back. Segment and reload failures of a live channel count against this,
    # not `max_retries`.
    live_gone_after_s: float = 120.0

    def __post_init__(self) -> None:
        if self.first_rendition not in ("lowest", "estimate"):
            raise ValueError(
                f"first_rendition must be 'lowest' or 'estimate', not {self.first_rendition!r}"
            )
        if self.buffer_target_s is not None and self.buffer_target_s <= 0:
            raise ValueError("buffer_target_s must be positive")
        if self.buffer_target_segments < 1:
            raise ValueError("buffer_target_segments must be at least 1")
        if self.live_target_latency_s is not None and not (
            0 < self.live_target_latency_s < math.inf
        ):
            raise ValueError(
                f"live_target_latency_s must be a positive number of seconds, not "
                f"{self.live_target_latency_s!r}"
            )
        if not 0 <= self.live_max_rate_change < 1:
            raise ValueError(
                f"live_max_rate_change must be in [0, 1), not {self.live_max_rate_change!r}"
            )
        if self.live_resync_after_stall_s is not None and not (
            0 < self.live_resync_after_stall_s <= math.inf
        ):
            raise ValueError(
                f"live_resync_after_stall_s must be a positive number of seconds, not "
                f"{self.live_resync_after_stall_s!r}"
            )

        if not 0 < self.live_gone_after_s <= math.inf:
            raise ValueError(
                f"live_gone_after_s must be a positive number of seconds, not "
                f"{self.live_gone_after_s!r}"
            )

    def target_s(self, segment_duration_s: float) -> float:
        target = self.buffer_target_s
        if target is None:
            target = self.buffer_target_segments * segment_duration_s
        return max(target, segment_duration_s)  # room for at least one segment

    def live_target_s(self, segment_duration_s: float) -> float:
        """The live latency to join at and hold."""
        if self.live_target_latency_s is not None:
            return self.live_target_latency_s
        return 3 * segment_duration_s

    def live_resync_s(self, target_latency_s: float) -> float:
        """How long a stall may last before the session re-joins at the target latency."""
        if self.live_resync_after_stall_s is not None:
            return self.live_resync_after_stall_s
        return 2 * target_latency_s
