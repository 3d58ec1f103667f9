"""DASH segment addressing: SegmentTemplate ($Number$, $Time$, SegmentTimeline), SegmentList and
SegmentBase (where the sidx is: the segments come from it later, see `abr.manifests.indexed`).

Input is `mpegdash` nodes (untyped, hence `Any` at this boundary); output is plain lists of
(url, byte range) and durations in seconds, which `dash.py` turns into a Rendition.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

from abr.manifests._ladder import (
    MAX_BYTE_OFFSET,
    MAX_SEGMENT_BITS,
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
class Addressed:
    """Where a Representation's segments are and how long each one is."""

    refs: list[Ref]
    durations: list[float]
    init: Ref | None
    index: Ref | None = None  # SegmentBase: the sidx's range; `refs` stay empty until it is read


def from_template(
    template: Inherited, rep_id: str, bandwidth: int, base: str, total_s: float | None, where: Where
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
    timelines = template.get("segment_timelines")
    if timelines:
        times_durations = _expand_timeline(timelines[0].Ss or [], offset, timescale, total_s, where)
    else:
        times_durations = _from_duration(template, offset, timescale, total_s, where)
    end_number = template.get("end_number")
    if end_number is not None:  # DASH 4th edition: the last segment's number
        last_number = _bounded(end_number, _UINT, "@endNumber", where)
        times_durations = times_durations[: max(last_number - start_number + 1, 0)]
    if not times_durations:
        raise where.error("SegmentTemplate addresses no segments")
    resolve = Resolver(base)
    refs: list[Ref] = [
        (resolve(fill(media, rep_id, bandwidth, start_number + i, time, where)), None)
        for i, (time, _) in enumerate(times_durations)
    ]
    durations = [d / timescale for _, d in times_durations]
    if not timelines and total_s is not None:
        # Duration-based addressing: the last segment ends with the period, so it is shorter.
        last = total_s - sum(durations[:-1])
        if 0 < last < durations[-1]:
            durations[-1] = last
    init: Ref | None = None
    if template.get("initialization"):
        init_url = fill(template.get("initialization"), rep_id, bandwidth, None, None, where)
        init = (urljoin(base, init_url), None)
    elif template.get("initializations"):
        init = _url_and_range(template.get("initializations")[0], base, where)
    return Addressed(refs, durations, init)


def from_list(listing: Inherited, base: str, total_s: float | None, where: Where) -> Addressed:
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
    timelines = listing.get("segment_timelines")
    if timelines:
        entries = _expand_timeline(timelines[0].Ss or [], 0, timescale, total_s, where)
        if len(entries) != len(refs):
            raise where.error(
                f"SegmentTimeline has {len(entries)} segments, SegmentList {len(refs)}"
            )
        durations = [d / timescale for _, d in entries]
    else:
        duration = listing.get("duration")
        if not duration or duration <= 0:
            raise where.error("SegmentList needs @duration or a SegmentTimeline")
        duration = _bounded(duration, _ULONG, "SegmentList @duration", where)
        durations = [duration / timescale] * len(refs)
        if total_s is not None:
            last = total_s - sum(durations[:-1])
            if 0 < last < durations[-1]:
                durations[-1] = last
    initializations = listing.get("initializations")
    init = _url_and_range(initializations[0], base, where) if initializations else None
    return Addressed(refs, durations, init)


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
    return Addressed([], [], init, index)


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


def _from_duration(
    template: Inherited, offset: int, timescale: int, total_s: float | None, where: Where
) -> list[tuple[int, int]]:
    duration = template.get("duration")
    if not duration or duration <= 0:
        raise where.error("SegmentTemplate needs @duration or a SegmentTimeline")
    duration = _bounded(duration, _ULONG, "SegmentTemplate @duration", where)
    if total_s is None:
        raise where.error("a duration-based SegmentTemplate needs the MPD's or Period's duration")
    # Relative slack so that 8.0 s / 2.0 s stays 4 segments despite float noise.
    count = max(math.ceil(total_s * timescale / duration - 1e-6), 1)
    if count > MAX_SEGMENTS:
        raise where.error(f"{count} segments: more than the {MAX_SEGMENTS} allowed")
    return [(offset + i * int(duration), int(duration)) for i in range(count)]


def _expand_timeline(
    entries: Sequence[Any], offset: int, timescale: int, total_s: float | None, where: Where
) -> list[tuple[int, int]]:
    """(start time, duration) in timescale units for each segment a SegmentTimeline describes.

    A gap before an S@t is folded into the previous segment's duration, so segment start times
    stay right on the Presentation's gap-free timeline; an overlap is an error.
    """
    out: list[tuple[int, int]] = []
    t = 0  # the spec's default for the first S; later ones follow on
    end = offset + total_s * timescale if total_s is not None else None
    for i, s in enumerate(entries):
        if s.t is not None:
            _bounded(s.t, _ULONG, f"SegmentTimeline S {i}: @t", where)
            if out and s.t < t:
                raise where.error(f"SegmentTimeline S {i}: t={s.t} overlaps the previous")
            if out and s.t > t:
                previous_t, previous_d = out[-1]
                out[-1] = (previous_t, previous_d + s.t - t)
            t = s.t
        if s.d is None or s.d <= 0:
            raise where.error(f"SegmentTimeline S {i} has no positive @d")
        _bounded(s.d, _ULONG, f"SegmentTimeline S {i}: @d", where)
        repeat = 0 if s.r is None else int(s.r)
        if repeat < 0:  # -1: repeat until the next S@t, or the end of the period
            following = entries[i + 1].t if i + 1 < len(entries) else None
            until = following if following is not None else end
            if until is None:
                raise where.error(f"SegmentTimeline S {i}: r=-1 needs the period length")
            repeat = max(math.ceil((until - t) / s.d - 1e-9) - 1, 0)
        if len(out) + repeat + 1 > MAX_SEGMENTS:
            raise where.error(f"SegmentTimeline: more than {MAX_SEGMENTS} segments")
        for _ in range(repeat + 1):
            out.append((t, int(s.d)))
            t += int(s.d)
    if not out:
        raise where.error("empty SegmentTimeline")
    return out


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
