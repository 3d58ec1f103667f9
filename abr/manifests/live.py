"""Reloading a live presentation: line the new window up with the previous one, and say when to
reload next. Pure functions of two parsed presentations (sans-I/O, no clock).

    refresh = refreshed(previous, parse_hls(...) or parse_dash(..., now_utc_s=...))
    delay = next_reload_delay_s(previous, refresh.presentation)

HLS windows line up by media sequence number (RFC 8216 6.2.2: it never goes backwards); DASH
windows by presentation time, which the MPD states (numbers restart in each Period, so they
are carried over from the previous load instead).
"""

from __future__ import annotations

from dataclasses import dataclass

from abr.manifests.errors import ManifestError
from abr.presentation import Presentation, Timeline

# Segments that keep their number keep their start time to within a frame or so; more than this
# and the two loads do not describe the same media.
_SAME_TIME_S = 0.1


@dataclass(frozen=True, slots=True)
class Refresh:
    """A reloaded live presentation, lined up with the previous load."""

    # The new load, its Timeline's `start_s` and `first_number` in the previous load's terms:
    # a segment in both has the same number and the same position in both.
    presentation: Presentation
    dropped: int  # segments of the previous load that slid out of the window
    added: int  # segments after the previous load's last one
    # Segments published and expired between the two loads, never seen (a slow reload).
    missed: int
    # The segments both loads list are not the same media (an encoder restart that reused the
    # numbers, or a discontinuity the previous load did not announce): the driver should re-join
    # rather than trust what it buffered from the previous load.
    reset: bool
    ended: bool  # no segment will be added any more: play out what is listed


def refreshed(previous: Presentation, new: Presentation) -> Refresh:
    """Line `new` (a reload of `previous`) up with it; ManifestError if it goes backwards."""
    old_t, new_t = previous.timeline, new.timeline
    if not old_t.live:
        raise ManifestError(new.source, "only a live presentation is refreshed")
    # The source decides (it does not change between loads): an HLS playlist that ended has
    # a VOD timeline, whose start is no more absolute than the live one's was.
    absolute = old_t.start_is_absolute
    by_number = new_t.first_number - old_t.first_number
    shift = _shift_by_time(previous, new) if absolute else by_number
    old_count, new_count = previous.segment_count, new.segment_count
    if shift < 0:
        number = "segment number" if absolute else "media sequence number"  # HLS: what it says
        raise ManifestError(
            new.source,
            f"the reload goes backwards: it starts {-shift} segment(s) before the previous "
            f"load did ({number} {old_t.first_number + shift} < {old_t.first_number})",
        )
    if shift + new_count < old_count:
        raise ManifestError(
            new.source,
            f"the reload goes backwards: it ends at segment number "
            f"{old_t.first_number + shift + new_count - 1}, the previous load at "
            f"{old_t.first_number + old_count - 1}",
        )
    if shift <= old_count:
        start_s = old_t.start_s + (
            previous.segment_start_s(shift) if shift < old_count else previous.duration_s
        )
    else:  # the window moved past everything we had: the missed ones' durations are unknown
        start_s = old_t.start_s + previous.duration_s * shift / old_count
    if absolute:
        start_s = new_t.start_s
    lined_up = Presentation(
        new.renditions,
        new.segment_durations_s,
        new.audio_tracks,
        new.subtitle_tracks,
        new.source,
        _moved(new_t, old_t.first_number + shift, start_s),
    )
    return Refresh(
        presentation=lined_up,
        dropped=min(shift, old_count),
        added=shift + new_count - old_count,
        missed=max(shift - old_count, 0),
        reset=_reset(previous, new, shift, absolute),
        ended=new_t.ended,
    )


def next_reload_delay_s(previous: Presentation | None, current: Presentation) -> float | None:
    """Seconds to wait before loading `current`'s manifest again; None: no reload is needed.

    DASH: minimumUpdatePeriod. HLS (RFC 8216 6.3.4): the target duration after a load that
    changed the playlist (or the first load, `previous` None), half of it after one that did
    not.
    """
    timeline = current.timeline
    if not timeline.live or timeline.ended or timeline.refresh_s is None:
        return None
    if timeline.start_is_absolute:
        return timeline.refresh_s
    unchanged = previous is not None and _last_number(previous) == _last_number(current)
    return timeline.refresh_s / 2 if unchanged else timeline.refresh_s


def _last_number(presentation: Presentation) -> int:
    return presentation.timeline.first_number + presentation.segment_count - 1


def _shift_by_time(previous: Presentation, new: Presentation) -> int:
    """Index in `previous` of `new`'s first segment, by presentation time (past the end: the
    count of segments beyond, at the previous load's mean duration)."""
    offset = new.timeline.start_s - previous.timeline.start_s
    if offset < -_SAME_TIME_S:
        mean = previous.duration_s / previous.segment_count
        return -max(round(-offset / mean), 1)
    if offset >= previous.duration_s - _SAME_TIME_S:
        mean = previous.duration_s / previous.segment_count
        return previous.segment_count + round((offset - previous.duration_s) / mean)
    index = previous.segment_at(offset + _SAME_TIME_S)
    if abs(previous.segment_start_s(index) - offset) > _SAME_TIME_S:
        raise ManifestError(
            new.source,
            f"the reload's first segment starts at {new.timeline.start_s:.3f} s, not on a "
            f"segment boundary of the previous load: the two do not line up",
        )
    return index


def _reset(previous: Presentation, new: Presentation, shift: int, absolute: bool) -> bool:
    old_t, new_t = previous.timeline, new.timeline
    shared = min(previous.segment_count - shift, new.segment_count)
    if shared <= 0:
        return False
    if not absolute:
        # The discontinuity sequence counts the discontinuities that slid out of the window.
        gone = sum(1 for i in old_t.discontinuities if i < shift)
        if new_t.discontinuity_sequence != old_t.discontinuity_sequence + gone:
            return True
        announced = {i - shift for i in old_t.discontinuities if i >= shift}
        if {i for i in new_t.discontinuities if i < shared} != announced:
            return True
    old_urls = [s.url for s in previous.renditions[0].segments[shift : shift + shared]]
    new_urls = [s.url for s in new.renditions[0].segments[:shared]]
    if old_urls != new_urls:
        return True
    return any(
        abs(previous.segment_durations_s[shift + i] - new.segment_durations_s[i]) > _SAME_TIME_S
        for i in range(shared)
    )


def _moved(timeline: Timeline, first_number: int, start_s: float) -> Timeline:
    # Spelled out rather than dataclasses.replace: Timeline may be a mypyc-compiled class.
    return Timeline(
        live=timeline.live,
        ended=timeline.ended,
        first_number=first_number,
        start_s=start_s,
        start_is_absolute=timeline.start_is_absolute,
        availability_start_utc_s=timeline.availability_start_utc_s,
        available_at_utc_s=timeline.available_at_utc_s,
        availability_offset_s=timeline.availability_offset_s,
        window_s=timeline.window_s,
        refresh_s=timeline.refresh_s,
        suggested_delay_s=timeline.suggested_delay_s,
        periods=timeline.periods,
        discontinuities=timeline.discontinuities,
        discontinuity_sequence=timeline.discontinuity_sequence,
        utc_timing=timeline.utc_timing,
    )
