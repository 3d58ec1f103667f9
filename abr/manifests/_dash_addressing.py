"""DASH segment addressing: SegmentTemplate ($Number$, $Time$, SegmentTimeline), SegmentList and
SegmentBase (where the sidx is: the segments come from it later, see `abr.manifests.indexed`).

Input is `mpegdash` nodes (untyped, hence `Any` at this boundary); output is plain lists of
(url, byte range) and durations in seconds, which `dash.py` turns into a Rendition.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from abr.manifests._ladder import (
    MAX_BYTE_OFFSET,
    MAX_SEGMENT_BITS,
    MAX_SEGMENT_S,
    MAX_SEGMENTS,
    Resolver,
    integer_text,
)
from abr.manifests.errors import ManifestError

_DURATION = re.compile(
    r"P(?:(?P<Y>\d+(?:\.\d+)?)Y)?(?:(?P<M>\d+(?:\.\d+)?)M)?(?:(?P<W>\d+(?:\.\d+)?)W)?"
    r"(?:(?P<D>\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?"
)
# $Identifier$ with an optional printf width ("%05d"; the spec's form is %0[width]d), or "$$".
_IDENTIFIER = re.compile(r"\$(\w*)(?:%0?(\d+)d)?\$")
_MAX_WIDTH = 32  # a "%0999999d" would make every URL a megabyte
# The schema's xs:unsignedInt and xs:unsignedLong: mpegdash reads them with int(), so a
# 400-digit @duration arrives as an int that overflows the first float it meets.
_UINT = 2**32 - 1
_ULONG = 2**64 - 1
# At most 19 digits: 2^63 is beyond any file, and int() refuses thousands of digits.
_RANGE = re.compile(r"^\s*(\d{1,19})-(\d{1,19})\s*$")

Ref = tuple[str, tuple[int, int] | None]


@dataclass(frozen=True, slots=True)
class Where:
    """The MPD (its URL) and the element being read, for error messages."""

    source: str
    element: str

    def error(self, reason: str) -> ManifestError:
        return ManifestError(self.source, f"{self.element}: {reason}")


def iso_duration_s(text: str, source: str) -> float:
    """xs:duration as MPDs use it ("PT8.0S", "PT1H2M", "P1DT0.5S") in seconds.

    Years and months have no fixed length, so a non-zero one is refused rather than guessed.
    """
    match = _DURATION.fullmatch(text.strip())
    if not match or text.strip() in ("P", "PT") or text.strip().endswith("T"):
        raise ManifestError(source, f"bad ISO 8601 duration {text!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    if parts["Y"] or parts["M"]:
        raise ManifestError(source, f"duration {text!r} in years or months is ambiguous")
    days = parts["W"] * 7 + parts["D"]
    seconds = days * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]
    if not math.isfinite(seconds):  # a 400-digit number of seconds is float("inf")
        raise ManifestError(source, f"duration {text[:40]!r}... is out of range")
    return seconds


class Inherited:
    """A Segment{Template,List} seen through its levels (Representation, AdaptationSet, Period).

    DASH lets each attribute or child be given at any level; the innermost one wins.
    """

    def __init__(self, nodes: Sequence[Any]) -> None:
        self.nodes = list(nodes)

    def get(self, name: str) -> Any:
        for node in self.nodes:
            value = getattr(node, name, None)
            if value is not None:
                return value
        return None


@dataclass(frozen=True, slots=True)
class Span:
    """Which of a Period's segments to address, in seconds from the Period's start.

    Static: all of them (`total_s` is the Period's length when known). Live: those whose end lies
    in (`earliest_end_s`, `latest_end_s`], i.e. inside the time-shift window and already
    available (an availabilityTimeOffset moves the latest end later).
    """

    total_s: float | None
    earliest_end_s: float = -math.inf
    latest_end_s: float = math.inf

    @property
    def live(self) -> bool:
        return self.latest_end_s != math.inf


@dataclass(frozen=True, slots=True)
class Addressed:
    """Where a Representation's segments are and how long each one is."""

    refs: list[Ref]
    durations: list[float]
    init: Ref | None
    first_number: int = 0  # $Number$ of the first segment addressed
    first_start_s: float = 0.0  # its start, in seconds from the Period's start
    availability_offset_s: float = 0.0  # availabilityTimeOffset: how much earlier it is served
    index: Ref | None = None  # SegmentBase: the sidx's range; `refs` stay empty until it is read


def from_template(
    template: Inherited, rep_id: str, bandwidth: int, base: str, span: Span, where: Where
) -> Addressed:
    media = template.get("media")
    if not media:
        raise where.error("SegmentTemplate has no @media")
    timescale = _timescale(template, where)
    start_number = template.get("start_number")
    start_number = (
        1 if start_number is None else _bounded(start_number, _UINT, "@startNumber", where)
    )
    offset = _bounded(
        template.get("presentation_time_offset") or 0, _ULONG, "@presentationTimeOffset", where
    )
    early = _availability_offset(template, where)
    span = Span(span.total_s, span.earliest_end_s, span.latest_end_s + early)
    end_number = template.get("end_number")
    last_index = None
    if end_number is not None:  # DASH 4th edition: the last segment's number
        last_index = _bounded(end_number, _UINT, "@endNumber", where) - start_number
    timelines = template.get("segment_timelines")
    if timelines:
        runs = _timeline_runs(timelines[0].Ss or [], offset, timescale, span, where)
        first, times_durations = _expand(runs, offset, timescale, span, last_index, where)
    else:
        first, times_durations = _from_duration(
            template, offset, timescale, span, last_index, where
        )
    if not times_durations and not span.live:
        raise where.error("SegmentTemplate addresses no segments")
    resolve = Resolver(base)
    refs: list[Ref] = [
        (resolve(fill(media, rep_id, bandwidth, start_number + first + i, time, where)), None)
        for i, (time, _) in enumerate(times_durations)
    ]
    durations = [d / timescale for _, d in times_durations]
    if not timelines and span.total_s is not None and durations:
        # Duration-based addressing: the last segment ends with the period, so it is shorter.
        last = span.total_s - (first + len(durations) - 1) * durations[0]
        if 0 < last < durations[-1]:
            durations[-1] = last
    init: Ref | None = None
    if template.get("initialization"):
        init_url = fill(template.get("initialization"), rep_id, bandwidth, None, None, where)
        init = (urljoin(base, init_url), None)
    elif template.get("initializations"):
        init = _url_and_range(template.get("initializations")[0], base, where)
    first_start = (times_durations[0][0] - offset) / timescale if times_durations else 0.0
    return Addressed(refs, durations, init, start_number + first, first_start, early)


def from_list(listing: Inherited, base: str, span: Span, where: Where) -> Addressed:
    """The listed segments; in a live MPD, those inside the time-shift window and available
    (as for templates), numbered from @startNumber."""
    total_s = span.total_s
    urls = listing.get("segment_urls") or []
    if not urls:
        raise where.error("SegmentList has no SegmentURL")
    if len(urls) > MAX_SEGMENTS:
        raise where.error(f"{len(urls)} segments: more than the {MAX_SEGMENTS} allowed")
    resolve = Resolver(base)
    refs: list[Ref] = []
    for i, u in enumerate(urls):
        byte_range = _range(u.media_range, where, f"SegmentURL {i}") if u.media_range else None
        refs.append((resolve(u.media or ""), byte_range))
    timescale = _timescale(listing, where)
    offset = _bounded(
        listing.get("presentation_time_offset") or 0, _ULONG, "@presentationTimeOffset", where
    )
    timelines = listing.get("segment_timelines")
    if timelines:
        runs = _timeline_runs(timelines[0].Ss or [], offset, timescale, Span(total_s), where)
        entries = _expand(runs, offset, timescale, Span(total_s), None, where)[1]
        if len(entries) != len(refs):
            raise where.error(
                f"SegmentTimeline has {len(entries)} segments, SegmentList {len(refs)}"
            )
        durations = [d / timescale for _, d in entries]
        first_start_s = (entries[0][0] - offset) / timescale
    else:
        duration = listing.get("duration")
        if not duration or duration <= 0:
            raise where.error("SegmentList needs @duration or a SegmentTimeline")
        duration = _bounded(duration, _ULONG, "SegmentList @duration", where)
        durations = [duration / timescale] * len(refs)
        first_start_s = 0.0
        if total_s is not None:
            last = total_s - sum(durations[:-1])
            if 0 < last < durations[-1]:
                durations[-1] = last
    initializations = listing.get("initializations")
    init = _url_and_range(initializations[0], base, where) if initializations else None
    start_number = listing.get("start_number")
    first = 1 if start_number is None else _bounded(start_number, _UINT, "@startNumber", where)
    early = _availability_offset(listing, where)
    if span.live:
        # Those ending inside the window and already available, as for a SegmentTemplate.
        ends = list(itertools.accumulate(durations, initial=first_start_s))[1:]
        kept = [
            k
            for k, end in enumerate(ends)
            if span.earliest_end_s < end <= span.latest_end_s + early + 1e-9
        ]
        low, high = (kept[0], kept[-1] + 1) if kept else (0, 0)
        first_start_s = ends[low] - durations[low] if kept else first_start_s
        refs, durations, first = refs[low:high], durations[low:high], first + low
    return Addressed(refs, durations, init, first, first_start_s, early)


def from_base(node: Inherited, base: str, where: Where) -> Addressed:
    """SegmentBase: the file is the BaseURL, its sidx at @indexRange, its init at
    Initialization@range.

    @timescale and @presentationTimeOffset are checked but change nothing fetched: a static
    timeline starts at the first segment, and the sidx has its own timescale. The sidx is
    looked for from the start of @indexRange, so @indexRangeExact="false" needs nothing more.
    """
    _timescale(node, where)
    _bounded(node.get("presentation_time_offset") or 0, _ULONG, "@presentationTimeOffset", where)
    if node.get("representation_indexes"):
        raise where.error("SegmentBase with a RepresentationIndex element is not supported")
    index_range = node.get("index_range")
    if not index_range:
        raise where.error("SegmentBase has no @indexRange: the segments cannot be found")
    index = (base, _range(index_range, where, "SegmentBase @indexRange"))
    initializations = node.get("initializations")
    init = _url_and_range(initializations[0], base, where) if initializations else None
    return Addressed([], [], init, index=index)


def fill(
    template: str, rep_id: str, bandwidth: int, number: int | None, time: int | None, where: Where
) -> str:
    """Substitute $RepresentationID$, $Number$, $Bandwidth$, $Time$ (with %0Nd widths) and $$."""

    def substitute(match: re.Match[str]) -> str:
        name, width = match.group(1), match.group(2)
        if name == "":
            return "$"
        if name == "RepresentationID":
            if width:
                raise where.error("$RepresentationID$ cannot take a format tag")
            return rep_id
        values = {"Number": number, "Time": time, "Bandwidth": bandwidth}
        if name not in values:
            raise where.error(f"unsupported template identifier ${name}$ in {template!r}")
        value = values[name]
        if value is None:
            raise where.error(f"${name}$ is not allowed in {template!r}")
        if width and (len(width) > 3 or int(width) > _MAX_WIDTH):
            shown = width if len(width) <= 3 else f"of {len(width)} digits"
            raise where.error(f"absurd format width {shown} in {template!r}")
        return f"{value:0{int(width)}d}" if width else str(value)

    return _IDENTIFIER.sub(substitute, template)


def _timescale(node: Inherited, where: Where) -> int:
    timescale = node.get("timescale")
    if timescale is None:
        return 1
    if int(timescale) <= 0:
        raise where.error(f"timescale {timescale} is not positive")
    return _bounded(timescale, _UINT, "@timescale", where)


def _bounded(value: Any, maximum: int, what: str, where: Where) -> int:
    number = int(value)
    if not 0 <= number <= maximum:
        raise where.error(f"{what} {integer_text(number)} is out of range (0 to {maximum})")
    return number


def _availability_offset(node: Inherited, where: Where) -> float:
    early = node.get("availability_time_offset")
    if early is None:
        return 0.0
    if not 0 <= early <= MAX_SEGMENT_S:  # NaN fails too; INF (always available) is not for us
        raise where.error(f"@availabilityTimeOffset {early:g} is out of range (0 to 86400 s)")
    return float(early)


def _from_duration(
    template: Inherited,
    offset: int,
    timescale: int,
    span: Span,
    last_index: int | None,
    where: Where,
) -> tuple[int, list[tuple[int, int]]]:
    """(index of the first segment, [(start time, duration)]) of a @duration template."""
    duration = template.get("duration")
    if not duration or duration <= 0:
        raise where.error("SegmentTemplate needs @duration or a SegmentTimeline")
    duration = _bounded(duration, _ULONG, "SegmentTemplate @duration", where)
    seconds = duration / timescale
    if span.total_s is None and not span.live:
        raise where.error("a duration-based SegmentTemplate needs the MPD's or Period's duration")
    last = math.inf
    if span.total_s is not None:
        # Relative slack so that 8.0 s / 2.0 s stays 4 segments despite float noise.
        last = max(math.ceil(span.total_s / seconds - 1e-6), 1) - 1
    if last_index is not None:
        last = min(last, last_index)
    first = 0
    if span.live:
        # Segment k ends at (k + 1) x duration: those ending inside the window.
        last = min(last, math.floor(span.latest_end_s / seconds + 1e-9) - 1)
        if span.earliest_end_s > 0:  # (k + 1) x duration > earliest end
            first = max(math.floor(span.earliest_end_s / seconds + 1e-9), 0)
        # A window of more segments than we hold keeps its newest end, the live edge.
        first = max(first, int(last) - MAX_SEGMENTS + 1)
    elif last + 1 > MAX_SEGMENTS:
        raise where.error(f"{int(last) + 1} segments: more than the {MAX_SEGMENTS} allowed")
    return first, [(offset + k * duration, duration) for k in range(first, int(last) + 1)]


# One S element once its repeat count is known: `count` segments of `d` from `t`, the last one
# `extra` ticks longer (a gap before the next S@t, folded in).
_Run = tuple[int, int, int, int]


def _timeline_runs(
    entries: Sequence[Any], offset: int, timescale: int, span: Span, where: Where
) -> list[_Run]:
    """A SegmentTimeline as runs, without expanding any repeat (an r of 10^12 costs nothing).

    A gap before an S@t is folded into the previous segment's duration, so segment start times
    stay right on the Presentation's gap-free timeline; an overlap is an error.
    """
    runs: list[_Run] = []
    t = 0  # the spec's default for the first S; later ones follow on
    end = offset + span.total_s * timescale if span.total_s is not None else None
    if span.live:  # open-ended repeats in a live MPD run up to the segments available now
        live_end = offset + span.latest_end_s * timescale
        end = live_end if end is None else min(end, live_end)
    for i, s in enumerate(entries):
        if s.t is not None:
            _bounded(s.t, _ULONG, f"SegmentTimeline S {i}: @t", where)
            if runs and s.t < t:
                raise where.error(f"SegmentTimeline S {i}: t={s.t} overlaps the previous")
            if runs and s.t > t:
                previous = runs[-1]
                runs[-1] = (previous[0], previous[1], previous[2], previous[3] + s.t - t)
            t = s.t
        if s.d is None or s.d <= 0:
            raise where.error(f"SegmentTimeline S {i} has no positive @d")
        d = _bounded(s.d, _ULONG, f"SegmentTimeline S {i}: @d", where)
        repeat = 0 if s.r is None else int(s.r)
        if repeat < -1:
            raise where.error(f"SegmentTimeline S {i}: r={repeat} (only -1 may be negative)")
        if repeat == -1:  # repeat until the next S@t, or the end of the period
            following = entries[i + 1].t if i + 1 < len(entries) else None
            until = following if following is not None else end
            if until is None:
                raise where.error(f"SegmentTimeline S {i}: r=-1 needs the period length")
            if span.live and following is None:
                count = max(math.floor((until - t) / d + 1e-9), 0)  # whole segments only
            else:
                count = max(math.ceil((until - t) / d - 1e-9), 1)
        else:
            count = repeat + 1
        runs.append((t, d, count, 0))
        t += count * d
    if not runs:
        raise where.error("empty SegmentTimeline")
    return runs


def _expand(
    runs: Sequence[_Run],
    offset: int,
    timescale: int,
    span: Span,
    last_index: int | None,
    where: Where,
) -> tuple[int, list[tuple[int, int]]]:
    """(index of the first segment kept, [(start time, duration)]) within the span's window.

    Static: every segment, at most MAX_SEGMENTS of them. Live: those ending in the window, the
    newest MAX_SEGMENTS if there are more; only those are ever built.
    """
    total = sum(run[2] for run in runs)
    if last_index is not None:
        total = min(total, last_index + 1)
    low, high = 0, total - 1
    if span.live:
        if span.earliest_end_s > -math.inf:  # else the whole timeline is in the window
            low = _first_ending_after(runs, offset + span.earliest_end_s * timescale, 1)
        high = min(high, _first_ending_after(runs, offset + span.latest_end_s * timescale, 1) - 1)
        low = max(low, high - MAX_SEGMENTS + 1)
    elif total > MAX_SEGMENTS:
        raise where.error(f"SegmentTimeline: more than {MAX_SEGMENTS} segments")
    out: list[tuple[int, int]] = []
    index = 0
    for t, d, count, extra in runs:
        if index + count > low and index <= high:
            for k in range(max(low - index, 0), min(count, high - index + 1)):
                out.append((t + k * d, d + (extra if k == count - 1 else 0)))
        index += count
    return low, out


def _first_ending_after(runs: Sequence[_Run], tick: float, strict: int) -> int:
    """Index of the first segment that ends after `tick` (or at it, unless `strict`)."""
    index = 0
    for t, d, count, extra in runs:
        run_end = t + count * d + extra
        if run_end > tick or (run_end == tick and not strict):
            # k-th segment ends at t + (k + 1) d (the last one `extra` later).
            k = math.ceil((tick - t) / d - 1e-9) - 1
            if strict and t + (k + 1) * d <= tick:
                k += 1
            k = min(max(k, 0), count - 1)
            return index + k
        index += count
    return index


def _range(text: str, where: Where, what: str) -> tuple[int, int]:
    match = _RANGE.match(text)
    if not match or int(match.group(1)) > int(match.group(2)):
        raise where.error(f"{what}: bad byte range {text!r}")
    first, last = int(match.group(1)), int(match.group(2))
    if last > MAX_BYTE_OFFSET or (last - first + 1) * 8 > MAX_SEGMENT_BITS:
        raise where.error(f"{what}: byte range {text!r} is beyond any file")
    return first, last


def _url_and_range(node: Any, base: str, where: Where) -> Ref:
    """An Initialization/RepresentationIndex-style URL element: sourceURL (or the base) + range."""
    byte_range = _range(node.range, where, "Initialization") if node.range else None
    return urljoin(base, node.source_url or ""), byte_range
