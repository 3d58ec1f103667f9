"""What an ABR algorithm sees when it decides (one `AbrContext` per session, updated in place)
and what it answers (`Decision`).

Algorithms read the context; only the session writes it. It is a plain slotted object rather than a
fresh snapshot per decision because the simulator makes millions of decisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from abr.presentation import Presentation
from abr.values import Value

Why = str | tuple[Any, ...]
"""Why a rendition was chosen: a phrase, or a `(format, *values)` tuple that `explain` turns into
one. The tuple defers the formatting to whoever reads the reason: the lab makes millions of
decisions and reads few of them (formatting two floats cost a cheap algorithm 5 % of its time).
A value may itself be a `Why` (a rule quoting the rule it followed)."""


def explain(reason: Why) -> str:
    """`reason` as text: `("buffer {:.1f} s", 3.25)` is "buffer 3.2 s"."""
    if isinstance(reason, str):
        return reason
    return str(reason[0]).format(*(explain(v) if type(v) is tuple else v for v in reason[1:]))


@dataclass(slots=True)
class DownloadRecord:
    """One finished (or abandoned) download, as the session saw it."""

    segment_index: int
    rendition_index: int
    bits: float  # received; equals the segment size unless abandoned
    requested_at: float
    first_byte_at: float
    done_at: float
    throughput_kbps: float  # bits over transfer time (first byte to last)
    latency_s: float
    buffer_before_s: float  # at request time
    buffer_after_s: float
    stall_s: float  # stall time accumulated while waiting for this download
    abandoned: bool = False
    reason: Why = ""  # why this rendition: the algorithm's `Decision.reason` or the session's

    @property
    def explanation(self) -> str:
        """`reason` as text."""
        return explain(self.reason)


@dataclass(slots=True)
class Progress:
    """An in-flight download, offered to `should_abandon`."""

    segment_index: int
    rendition_index: int
    size_bits: float
    received_bits: float
    elapsed_s: float  # since the request
    latency_s: float | None  # time to first byte, once known


class Decision(Value):
    """A rendition, optionally requested only after `delay_s` (BOLA's pacing), and why.

    `reason` is a short phrase ("buffer below reservoir", or `("mpc plan at {:.2f} Mbit/s",
    3.1)` to format only when read: see `Why`) that the session copies into the download's
    record, so a tuning run can be read from its log. An algorithm that returns a bare index
    gets the session's default reason.
    """

    __slots__ = ("rendition", "delay_s", "reason")

    def __init__(self, rendition: int, delay_s: float = 0.0, reason: Why = "") -> None:
        self.rendition: Final = rendition
        self.delay_s: Final = delay_s
        self.reason: Final = reason


class AbrContext:
    """Session state visible to algorithms. Times in seconds, rates in kbit/s, sizes in bits."""

    __slots__ = (
        "bitrates_kbps",
        "buffer_s",
        "buffer_target_s",
        "downloads",
        "last_rendition",
        "latency_s",
        "live",
        "live_latency_s",
        "live_target_latency_s",
        "max_rendition",
        "now",
        "playback_rate",
        "playing",
        "presentation",
        "segment_count",
        "segment_duration_s",
        "segment_durations_s",
        "segment_index",
        "sizes_bits",
        "start_index",
        "throughput_kbps",
    )

    def __init__(self, presentation: Presentation, buffer_target_s: float) -> None:
        self.presentation = presentation
        self.bitrates_kbps: list[float] = list(presentation.bitrates_kbps)
        self.sizes_bits: list[list[float]] = presentation.size_table_bits()
        self.segment_durations_s: list[float] = list(presentation.segment_durations_s)
        self.segment_count = presentation.segment_count
        # Nominal duration: what rules that reason "per segment" use.
        self.segment_duration_s = max(self.segment_durations_s)
        self.buffer_target_s = buffer_target_s
        self.max_rendition = len(self.bitrates_kbps) - 1
        self.now = 0.0
        self.segment_index = 0  # the segment about to be requested
        self.start_index = 0  # where playback started or last seeked to
        self.buffer_s = 0.0
        self.playing = False
        self.last_rendition: int | None = None
        self.throughput_kbps: float | None = None
        self.latency_s = 0.0
        self.downloads: list[DownloadRecord] = []
        # Live: `segment_count` is what the last load lists (the live edge), so `segments_left`
        # counts only what can be fetched now or soon, not the endless rest of the stream.
        self.live = presentation.timeline.live
        self.live_latency_s: float | None = None  # see `abr.session.Session.live_latency_s`
        self.live_target_latency_s: float | None = None  # the latency the session holds
        self.playback_rate = 1.0  # media seconds played per second (live catch-up)

    @property
    def segments_left(self) -> int:
        return self.segment_count - self.segment_index

    def highest_sustainable(self, throughput_kbps: float) -> int:
        """Highest rendition whose segment downloads (after latency) within its duration."""
        d = self.segment_duration_s
        budget = d - self.latency_s
        quality = 0
        for q in range(1, self.max_rendition + 1):
            if d * self.bitrates_kbps[q] / throughput_kbps > budget:
                break
            quality = q
        return quality
