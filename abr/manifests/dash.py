"""DASH (ISO/IEC 23009-1) MPDs -> Presentation, with the `mpegdash` package. Text in only.

`mpegdash.MPEGDASHParser.parse(s)` treats a string without "<MPD" as a URL to `urlopen` or a path
to `open`, which a sans-I/O parser must never do; so the text goes through `minidom.parseString`
and the `mpegdash` node classes directly.

Supported: static and dynamic (live) MPDs; several Periods (one ladder through all of them:
each Period must have as many video Representations, matched by resolution when every one has
a height, else in bandwidth order (`_paired`), and a later Period's segments carry its own
initialization segment); video AdaptationSets (every video
Representation joins one ladder); SegmentTemplate with @duration ($Number$) or a SegmentTimeline
($Number$ or $Time$), format tags such as $Number%05d$, $RepresentationID$, $Bandwidth$;
SegmentList (mediaRange gives exact sizes); attributes inherited from AdaptationSet and Period;
BaseURL at every level. Audio and text AdaptationSets become `audio_tracks` / `subtitle_tracks`.
A dynamic MPD gives the segments available at the time the caller fetched it (`now_utc_s`,
else the MPD's publishTime) within timeShiftBufferDepth, and a live `Timeline`. SegmentBase (the
on-demand profile: one file per rendition, indexed by its sidx box) in a static single-Period
MPD gives an unindexed presentation (`Presentation.is_indexed` False) that
`abr.manifests.with_indexes` completes once the boxes are fetched. Refused with a ManifestError:
SegmentBase in a dynamic or multi-Period MPD, and a ladder mixing SegmentBase with others.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin
from xml.dom import minidom
from xml.parsers.expat import ErrorString, ExpatError

from mpegdash.nodes import MPEGDASH

from abr.manifests._dash_addressing import (
    Addressed,
    Inherited,
    Span,
    Where,
    from_base,
    from_list,
    from_template,
    iso_duration_s,
)
from abr.manifests._ladder import (
    MAX_BANDWIDTH_BPS,
    align,
    integer_text,
    segment,
    with_segments,
)
from abr.manifests.errors import ManifestError
from abr.manifests.protection import ContentProtection
from abr.presentation import (
    MediaTrack,
    Period,
    Presentation,
    Rendition,
    SegmentRef,
    Timeline,
    UtcTiming,
)

_AUDIO_CODECS = ("mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "alac", "mp3", "dts")
_TEXT_CODECS = ("wvtt", "stpp", "ttml")
_TRICK_MODE = "http://dashif.org/guidelines/trickmode"
_ROLE = "urn:mpeg:dash:role:2011"


def parse_dash(mpd_text: str, base_url: str, now_utc_s: float | None = None) -> Presentation:
    """Build the presentation of an MPD; `base_url` is the MPD's own URL.

    `now_utc_s` (live only): the UTC time, in epoch seconds, at which the caller fetched the
    MPD (its clock corrected by UTCTiming when it has one); it decides which segments are
    available. Without it, the MPD's publishTime is used.

    Segment counts may differ by one between Representations (the last one is then dropped from
    the longer ones); see `abr.manifests._ladder.common_count`.
    """
    return _parse(mpd_text, base_url, now_utc_s).presentation


def dash_audio_renditions(
    mpd_text: str, base_url: str, now_utc_s: float | None = None
) -> dict[str, Rendition]:
    """Per audio track id (`Presentation.audio_tracks[i].id`), its first Representation with
    its segments: what a player fetches beside the video. Same errors as `parse_dash`."""
    return _parse(mpd_text, base_url, now_utc_s).audio


def dash_content_protection(
    mpd_text: str, base_url: str, now_utc_s: float | None = None
) -> dict[str, tuple[ContentProtection, ...]]:
    """Per video rendition id, the ContentProtection descriptors that apply (empty: clear).

    `Presentation` has no field for them; a player needs them for EME/CENC. Same errors as
    `parse_dash`. With several Periods, every rung must be protected the same way in each
    (one licence and key for the whole ladder); a Period that differs (another key, or a
    clear break in an encrypted title) is refused with a ManifestError naming it and the rung,
    rather than played until its first segment fails to decrypt.
    """
    parsed = _parse(mpd_text, base_url, now_utc_s)
    _check_same_protection(parsed.periods, base_url)
    return parsed.protection


@dataclass(frozen=True)
class _Parsed:
    presentation: Presentation
    protection: dict[str, tuple[ContentProtection, ...]]  # the first Period's
    audio: dict[str, Rendition]
    periods: tuple[_PeriodParsed, ...] = ()  # each Period, when there are several


@dataclass(frozen=True)
class _PeriodParsed:
    """One Period's ladder (sorted by bandwidth, one shared timeline) and what goes with it."""

    id: str
    start_s: float  # Period start, in presentation time
    renditions: tuple[Rendition, ...]
    durations: tuple[float, ...]
    first_number: int
    first_start_s: float  # its first segment's start, from the Period's start
    availability_offset_s: float
    protection: dict[str, tuple[ContentProtection, ...]]
    audio_tracks: tuple[MediaTrack, ...]
    subtitle_tracks: tuple[MediaTrack, ...]
    audio: dict[str, Rendition]


def _parse(mpd_text: str, source: str, now_utc_s: float | None) -> _Parsed:
    root = _root(mpd_text, source)
    mpd: Any = MPEGDASH()
    try:
        mpd.parse(root)
    except Exception as exc:  # mpegdash converts attributes with int()/float(): ValueError...
        raise ManifestError(source, f"malformed MPD: bad attribute value ({exc})") from exc
    kind = mpd.type or "static"
    if kind not in ("static", "dynamic"):
        raise ManifestError(source, f"MPD@type {kind!r} is neither static nor dynamic")
    clock = _live_clock(mpd, source, now_utc_s) if kind == "dynamic" else None
    periods = mpd.periods or []
    if not periods:
        raise ManifestError(source, "the MPD has no Period")
    spans = _period_spans(mpd, periods, clock is not None, source)
    base = _join(source, mpd.base_urls)
    parsed = []
    for index, (period, element, (start_s, total_s)) in enumerate(
        zip(periods, _children(root, "Period"), spans, strict=True)
    ):
        pid = str(period.id) if period.id is not None else str(index)
        label = f"Period {pid!r}: " if len(periods) > 1 else ""
        span = Span(total_s)
        if clock is not None:
            span = clock.span(start_s, total_s)
            if span.latest_end_s <= 0:
                continue  # a Period that has not started yet: nothing is available in it
        one = _period(
            period, element, pid, start_s, span, _join(base, period.base_urls), label, source
        )
        if one.durations or clock is None:
            parsed.append(one)
    if parsed and parsed[0].renditions and parsed[0].renditions[0].index is not None:
        return _unindexed(parsed, clock is not None, source)
    if not parsed:  # only a live MPD leaves out Periods (those with nothing available yet)
        assert clock is not None
        raise ManifestError(source, f"no segment is available yet at {_when(clock)}")
    presentation = _concatenate(parsed, source, _timeline(mpd, parsed, clock, source))
    return _Parsed(presentation, parsed[0].protection, _concatenated_audio(parsed), tuple(parsed))


def _unindexed(parsed: list[_PeriodParsed], live: bool, source: str) -> _Parsed:
    """The on-demand profile: a presentation whose segments the sidx boxes will give."""
    if live or len(parsed) > 1:
        where = "a dynamic MPD" if live else "an MPD with several Periods"
        raise ManifestError(source, f"SegmentBase in {where} is not supported")
    only = parsed[0]
    presentation = Presentation(
        only.renditions, (), only.audio_tracks, only.subtitle_tracks, source=source
    )
    return _Parsed(presentation, only.protection, only.audio)


def _period(
    period: Any,
    element: Any,
    pid: str,
    start_s: float,
    span: Span,
    base: str,
    label: str,
    source: str,
) -> _PeriodParsed:
    videos: list[tuple[Rendition, list[float]]] = []
    addressing: list[Addressed] = []
    protection: dict[str, tuple[ContentProtection, ...]] = {}
    audio: list[MediaTrack] = []
    audio_renditions: dict[str, Rendition] = {}
    subtitles: list[MediaTrack] = []
    set_elements = _children(element, "AdaptationSet")
    for index, (aset, aset_element) in enumerate(
        zip(period.adaptation_sets or [], set_elements, strict=True)
    ):
        kind = _kind(aset)
        set_base = _join(base, aset.base_urls)
        reps = aset.representations or []
        if kind == "video" and not _is_trick_mode(aset):
            rep_elements = _children(aset_element, "Representation")
            for number, (rep, rep_element) in enumerate(zip(reps, rep_elements, strict=True)):
                rid = str(rep.id) if rep.id else f"{index}.{number}"
                if rid in protection:  # one entry per video rendition so far
                    raise ManifestError(source, f"{label}two video Representations with id {rid!r}")
                where = Where(source, f"{label}Representation {rid!r}")
                rendition, addressed = _rendition(rep, rid, aset, period, set_base, span, where)
                videos.append((rendition, addressed.durations))
                addressing.append(addressed)
                descriptors = _protection(aset_element, source) + _protection(rep_element, source)
                protection[rid] = descriptors
        elif kind in ("audio", "text") and reps:
            track = _track(kind, index, aset, aset_element, period, set_base)
            (audio if kind == "audio" else subtitles).append(track)
            if kind == "audio" and track.url is None:
                rep = reps[0]
                where = Where(source, f"{label}audio Representation {rep.id!r}")
                rid = str(rep.id) if rep.id else track.id
                audio_renditions[track.id] = _rendition(
                    rep, rid, aset, period, set_base, span, where
                )[0]
    if not videos:
        raise ManifestError(source, f"{label}no video AdaptationSet with Representations".strip())
    first = addressing[0]
    unindexed = [rendition.index is not None for rendition, _ in videos]
    if any(unindexed):
        if not all(unindexed):
            raise ManifestError(
                source, f"{label}video Representations mix SegmentBase with other addressing"
            )
        # The segments come from each rendition's sidx (`abr.manifests.with_indexes`).
        return _PeriodParsed(
            pid,
            start_s,
            tuple(sorted((r for r, _ in videos), key=lambda r: r.bandwidth_bps)),
            (),
            0,
            0.0,
            0.0,
            protection,
            tuple(audio),
            tuple(subtitles),
            audio_renditions,
        )
    if not any(durations for _, durations in videos):  # live: nothing available in it yet
        return _PeriodParsed(
            pid, start_s, (), (), first.first_number, 0.0, 0.0, protection, (), (), {}
        )
    if span.live and not all(durations for _, durations in videos):
        raise ManifestError(source, f"{label}Representations disagree on the segments available")
    renditions, durations = align(videos, source)
    return _PeriodParsed(
        pid,
        start_s,
        tuple(renditions),
        tuple(durations),
        first.first_number,
        first.first_start_s,
        first.availability_offset_s,
        protection,
        tuple(audio),
        tuple(subtitles),
        audio_renditions,
    )


@dataclass(frozen=True)
class _LiveClock:
    """A dynamic MPD's clock: where "now" is, and how far back the time-shift window reaches."""

    availability_start_utc_s: float
    now_utc_s: float
    window_s: float | None  # timeShiftBufferDepth; None: everything since the start

    def span(self, period_start_s: float, total_s: float | None) -> Span:
        latest = self.now_utc_s - self.availability_start_utc_s - period_start_s
        earliest = latest - self.window_s if self.window_s is not None else -math.inf
        return Span(total_s, earliest, latest)


def _live_clock(mpd: Any, source: str, now_utc_s: float | None) -> _LiveClock:
    if not mpd.availability_start_time:
        raise ManifestError(source, "MPD@availabilityStartTime: a dynamic MPD must have one")
    start = _utc_s(mpd.availability_start_time, "MPD@availabilityStartTime", source)
    if now_utc_s is None:
        if not mpd.publish_time:
            raise ManifestError(
                source, "a dynamic MPD without MPD@publishTime needs the time it was fetched at"
            )
        now_utc_s = _utc_s(mpd.publish_time, "MPD@publishTime", source)
    elif not (math.isfinite(now_utc_s) and 0 <= now_utc_s <= _MAX_UTC_S):
        raise ManifestError(source, f"the time it was fetched at ({now_utc_s!r}) is not a UTC time")
    depth = mpd.time_shift_buffer_depth
    window = _seconds(depth, "MPD@timeShiftBufferDepth", source) if depth else None
    return _LiveClock(start, now_utc_s, window)


# Year 9999: beyond it, xs:dateTime and Python's datetime part ways.
_MAX_UTC_S = 253_402_300_799.0


def _utc_s(text: str, field: str, source: str) -> float:
    """An xs:dateTime in epoch seconds; one without a zone is UTC, as DASH-IF says."""
    try:
        moment = datetime.fromisoformat(str(text).strip().replace("z", "Z"))
    except ValueError:
        raise ManifestError(source, f"{field}: {text[:40]!r} is not an xs:dateTime") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def _seconds(text: str, field: str, source: str) -> float:
    """A non-negative xs:duration attribute, with the field named in errors."""
    try:
        value = iso_duration_s(text, source)
    except ManifestError as exc:
        raise ManifestError(source, f"{field}: {exc.reason}") from None
    if value > _MAX_UTC_S:
        raise ManifestError(source, f"{field}: {text[:40]!r} is out of range")
    return value


def _when(clock: _LiveClock) -> str:
    moment = datetime.fromtimestamp(clock.now_utc_s, UTC).isoformat()
    since = clock.now_utc_s - clock.availability_start_utc_s
    return f"{moment} (availabilityStartTime + {since:g} s)"


def _period_spans(
    mpd: Any, periods: list[Any], live: bool, source: str
) -> list[tuple[float, float | None]]:
    """(start, duration or None) of each Period, derived as ISO/IEC 23009-1 5.3.2.1 says: @start,
    else the previous Period's start + @duration; the duration is @duration, else up to the next
    Period's start, else (the last one) up to mediaPresentationDuration."""
    starts: list[float] = []
    for index, period in enumerate(periods):
        name = f"Period {str(period.id)!r}" if period.id is not None else f"Period {index}"
        if period.start:
            start = _seconds(period.start, f"{name} @start", source)
        elif index == 0:
            start = 0.0  # the first Period of a static MPD; an early-available one in a live MPD
        elif periods[index - 1].duration:
            previous = periods[index - 1].duration
            start = starts[-1] + _seconds(previous, f"Period {index - 1} @duration", source)
        else:
            raise ManifestError(
                source, f"{name}: no @start, and the Period before it has no @duration"
            )
        if starts and start < starts[-1]:
            raise ManifestError(
                source,
                f"{name}: @start {start:g} s is before the previous Period's ({starts[-1]:g} s)",
            )
        starts.append(start)
    total = mpd.media_presentation_duration
    end = _seconds(total, "MPD@mediaPresentationDuration", source) if total else None
    spans: list[tuple[float, float | None]] = []
    for index, (period, start) in enumerate(zip(periods, starts, strict=True)):
        name = f"Period {str(period.id)!r}" if period.id is not None else f"Period {index}"
        if period.duration:
            length: float | None = _seconds(period.duration, f"{name} @duration", source)
        elif index + 1 < len(periods):
            length = starts[index + 1] - start
        elif end is not None:
            length = end - start
        else:
            length = None
        if length is not None and length <= 0:
            raise ManifestError(source, f"{name}: the period lasts {length:g} s")
        spans.append((start, length))
    return spans


def _concatenate(parsed: list[_PeriodParsed], source: str, timeline: Timeline) -> Presentation:
    """One ladder through every Period: the first Period's rungs, each continued by the rung
    `_paired` with it in every later Period."""
    first = parsed[0]
    for period in parsed[1:]:
        if len(period.renditions) != len(first.renditions):
            raise ManifestError(
                source,
                f"Period {period.id!r} has {len(period.renditions)} video Representations, "
                f"Period {first.id!r} {len(first.renditions)}: they cannot be played as one ladder",
            )
    later = [_paired(first, period) for period in parsed[1:]]
    renditions = []
    for rung, head in enumerate(first.renditions):
        segments = list(head.segments)
        for rungs in later:
            segments += _with_init(rungs[rung], head.init)
        renditions.append(with_segments(head, tuple(segments)))
    durations = tuple(d for period in parsed for d in period.durations)
    try:
        return Presentation(
            tuple(renditions),
            durations,
            first.audio_tracks,
            first.subtitle_tracks,
            source=source,
            timeline=timeline,
        )
    except ValueError as exc:  # the model's own checks; keep "only ManifestError" true
        raise ManifestError(source, str(exc).removeprefix(f"{source}: ")) from exc


def _check_same_protection(parsed: tuple[_PeriodParsed, ...], source: str) -> None:
    """Every later Period protects each rung as the first Period does."""
    if len(parsed) < 2:
        return
    first = parsed[0]
    for period in parsed[1:]:
        for head, later in zip(first.renditions, _paired(first, period), strict=True):
            if period.protection[later.id] != first.protection[head.id]:
                raise ManifestError(
                    source,
                    f"Period {period.id!r} protects Representation {later.id!r} differently "
                    f"from Period {first.id!r} ({head.id!r}): a change of protection between "
                    "Periods is not supported",
                )


def _paired(first: _PeriodParsed, period: _PeriodParsed) -> tuple[Rendition, ...]:
    """`period`'s video Representations in the order of `first`'s rungs (as many of each).

    By resolution (height, then width, then bandwidth) when every Representation of both has
    a height: a packager's measured bandwidths need not keep one order between runs (Shaka
    measured an ad's 240p above its 360p, and the show's 360p went on as the ad's 240p).
    Otherwise in bandwidth order, the only order the MPD then gives.
    """
    rungs = period.renditions
    if not all(r.height for r in (*first.renditions, *rungs)):
        return rungs

    def size(r: Rendition) -> tuple[int, int, int]:
        return (r.height or 0, r.width or 0, r.bandwidth_bps)

    by_size = sorted(range(len(first.renditions)), key=lambda i: size(first.renditions[i]))
    paired: list[Rendition] = list(rungs)
    for head, rung in zip(by_size, sorted(rungs, key=size), strict=True):
        paired[head] = rung
    return tuple(paired)


def _with_init(rendition: Rendition, first_init: SegmentRef | None) -> list[SegmentRef]:
    """A later Period's segments, each naming that Period's initialization segment."""
    init = rendition.init
    if init == first_init:
        return list(rendition.segments)
    return [
        SegmentRef(s.url, s.size_bits, s.size_is_estimate, s.byte_range, init)
        for s in rendition.segments
    ]


def _concatenated_audio(parsed: list[_PeriodParsed]) -> dict[str, Rendition]:
    """The first Period's audio renditions continued through the later Periods, matched by
    position; a track that some later Period lacks is left out rather than cut short."""
    first = parsed[0]
    if len(parsed) == 1:
        return first.audio
    joined = {}
    for position, (track_id, head) in enumerate(first.audio.items()):
        later = [list(p.audio.values()) for p in parsed[1:]]
        if all(position < len(rungs) for rungs in later):
            segments = list(head.segments)
            for rungs in later:
                segments += _with_init(rungs[position], head.init)
            joined[track_id] = with_segments(head, tuple(segments))
    return joined


def _timeline(
    mpd: Any, parsed: list[_PeriodParsed], clock: _LiveClock | None, source: str
) -> Timeline:
    first_segments, count = [], 0
    for period in parsed:
        first_segments.append(count)
        count += len(period.durations)
    periods = tuple(
        Period(p.id, index, p.start_s) for p, index in zip(parsed, first_segments, strict=True)
    )
    utc_timing = tuple(
        UtcTiming(str(u.scheme_id_uri or ""), str(u.value or "")) for u in mpd.utc_timings or []
    )
    head = parsed[0]
    start_s = head.start_s + head.first_start_s
    discontinuities = tuple(first_segments[1:])
    if clock is None:
        return Timeline(
            first_number=head.first_number,
            start_s=start_s,
            periods=periods,
            discontinuities=discontinuities,
            utc_timing=utc_timing,
        )
    available: list[float] = []
    for period in parsed:
        # A segment can be fetched from availabilityStartTime + Period@start + its end,
        # availabilityTimeOffset earlier (ISO/IEC 23009-1 5.3.9.5.3).
        t = clock.availability_start_utc_s + period.start_s + period.first_start_s
        t -= period.availability_offset_s
        for d in period.durations:
            t += d
            available.append(t)
    update = mpd.minimum_update_period
    refresh = _seconds(update, "MPD@minimumUpdatePeriod", source) if update else None
    delay = mpd.suggested_presentation_delay
    return Timeline(
        live=True,
        ended=mpd.media_presentation_duration is not None and refresh is None,
        first_number=head.first_number,
        start_s=start_s,
        availability_start_utc_s=clock.availability_start_utc_s,
        available_at_utc_s=tuple(available),
        availability_offset_s=parsed[-1].availability_offset_s,
        window_s=clock.window_s,
        refresh_s=refresh,
        suggested_delay_s=(
            _seconds(delay, "MPD@suggestedPresentationDelay", source) if delay else None
        ),
        periods=periods,
        discontinuities=discontinuities,
        utc_timing=utc_timing,
    )


def _root(text: str, source: str) -> Any:
    if not isinstance(text, str):
        raise ManifestError(source, f"expected MPD text, got {type(text).__name__}")
    if "<MPD" not in text and ":MPD" not in text:
        raise ManifestError(source, "not a DASH MPD (no <MPD> element)")
    if "<!ENTITY" in text:  # no MPD needs a DTD; entity expansion is a classic XML bomb
        raise ManifestError(source, "DTD entity declarations are not allowed in an MPD")
    try:
        document = minidom.parseString(text)
    except ExpatError as exc:
        reason = f"malformed XML: {ErrorString(exc.code)} (column {exc.offset})"
        raise ManifestError(source, reason, exc.lineno) from exc
    except Exception as exc:  # e.g. a str with characters expat cannot encode
        raise ManifestError(source, f"malformed XML ({exc!r})") from exc
    root = document.documentElement
    if root is None or (root.localName or root.nodeName) != "MPD":
        name = root.nodeName if root is not None else "nothing"
        raise ManifestError(source, f"the root element is <{name}>, not <MPD>")
    return root


def _children(element: Any, name: str) -> list[Any]:
    """Child elements named `name`, matched the way mpegdash matches them (so lists line up)."""
    return [
        node
        for node in element.childNodes
        if node.nodeType == node.ELEMENT_NODE and name in (node.localName, node.nodeName)
    ]


def _text(element: Any) -> str:
    return "".join(n.data for n in element.childNodes if n.nodeType == n.TEXT_NODE).strip()


def _join(base: str, base_urls: Any) -> str:
    """Resolve one level's first BaseURL against the level above (alternates are ignored)."""
    if base_urls and base_urls[0].base_url_value:
        return urljoin(base, str(base_urls[0].base_url_value).strip())
    return base


def _kind(aset: Any) -> str:
    """ "video", "audio", "text" or "other", from contentType, then mimeType, then codecs."""
    reps = aset.representations or []
    content_type = str(aset.content_type or "").lower()
    if content_type:
        return content_type if content_type in ("video", "audio", "text") else "other"
    for mime in [aset.mime_type] + [r.mime_type for r in reps]:
        mime = str(mime or "").lower()
        if "ttml" in mime or "vtt" in mime or mime.startswith("text/"):
            return "text"
        for kind in ("video", "audio"):
            if mime.startswith(kind + "/"):
                return kind
        if mime.startswith("image/"):
            return "other"  # thumbnail tiles have a width and height, but are not video
    for codecs in [aset.codecs] + [r.codecs for r in reps]:
        codecs = str(codecs or "").lower()
        if codecs.startswith(_TEXT_CODECS):
            return "text"
        if codecs.startswith(_AUDIO_CODECS):
            return "audio"
        if codecs:
            return "video"
    if aset.width or aset.height or any(r.width or r.height for r in reps):
        return "video"
    return "other"


def _is_trick_mode(aset: Any) -> bool:
    # I-frame-only sets for fast-forward thumbnails are not a rung of the ladder.
    properties = (aset.essential_properties or []) + (aset.supplemental_properties or [])
    return any(p.scheme_id_uri == _TRICK_MODE for p in properties)


def _rendition(
    rep: Any,
    rid: str,
    aset: Any,
    period: Any,
    base: str,
    span: Span,
    where: Where,
) -> tuple[Rendition, Addressed]:
    if not rep.bandwidth or rep.bandwidth <= 0:
        raise where.error("no positive @bandwidth")
    bandwidth = int(rep.bandwidth)
    if bandwidth > MAX_BANDWIDTH_BPS:
        # A 400-digit @bandwidth would overflow bandwidth x duration, the estimated sizes.
        raise where.error(
            f"@bandwidth {integer_text(bandwidth)} is above the {MAX_BANDWIDTH_BPS} allowed"
        )
    rep_base = _join(base, rep.base_urls)
    addressed = _addressing(rep, rid, bandwidth, aset, period, rep_base, span, where)
    segments = tuple(
        segment(url, d, bandwidth, r)
        for (url, r), d in zip(addressed.refs, addressed.durations, strict=True)
    )
    init = None
    if addressed.init is not None:
        init = segment(addressed.init[0], 0.0, 0, addressed.init[1])
    index = None
    if addressed.index is not None:
        index = segment(addressed.index[0], 0.0, 0, addressed.index[1])
    rendition = Rendition(
        id=rid,
        bandwidth_bps=bandwidth,
        segments=segments,
        width=_dimension(rep.width or aset.width),
        height=_dimension(rep.height or aset.height),
        codecs=rep.codecs or aset.codecs,
        frame_rate=_frame_rate(rep.frame_rate or aset.frame_rate),
        init=init,
        index=index,
    )
    return rendition, addressed


def _addressing(
    rep: Any,
    rid: str,
    bandwidth: int,
    aset: Any,
    period: Any,
    base: str,
    span: Span,
    where: Where,
) -> Addressed:
    """The innermost level that says how segments are addressed decides the scheme; the same
    element at outer levels supplies the attributes it leaves out."""
    levels = (rep, aset, period)
    for level in levels:
        if level.segment_templates:
            nodes = [x.segment_templates[0] for x in levels if x.segment_templates]
            return from_template(Inherited(nodes), rid, bandwidth, base, span, where)
        if level.segment_lists:
            nodes = [x.segment_lists[0] for x in levels if x.segment_lists]
            return from_list(Inherited(nodes), base, span, where)
        if level.segment_bases:
            nodes = [x.segment_bases[0] for x in levels if x.segment_bases]
            return from_base(Inherited(nodes), base, where)
    raise where.error("no SegmentTemplate, SegmentList or SegmentBase says where the segments are")


def _dimension(value: int | None) -> int | None:
    return value if value is not None and value > 0 else None


def _frame_rate(text: str | None) -> float | None:
    if not text:
        return None
    num, _, den = str(text).partition("/")
    try:
        rate = float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None  # a cosmetic attribute: not worth refusing the MPD over
    return rate if rate > 0 else None


def _track(kind: str, index: int, aset: Any, element: Any, period: Any, base: str) -> MediaTrack:
    rep = aset.representations[0]
    labels = _children(element, "Label")
    addressed = any(
        x.segment_templates or x.segment_lists or x.segment_bases for x in (rep, aset, period)
    )
    # A URL only for a single-file track (a sidecar .vtt, say): segmented tracks have no one URL.
    url = (
        _join(base, rep.base_urls) if (rep.base_urls or aset.base_urls) and not addressed else None
    )
    return MediaTrack(
        kind="audio" if kind == "audio" else "subtitles",
        id=str(aset.id) if aset.id is not None else f"{kind}{index}",
        language=aset.lang or None,
        name=aset.label or (_text(labels[0]) if labels else None) or None,
        url=url,
        codecs=aset.codecs or rep.codecs or None,
        is_default=any(r.scheme_id_uri == _ROLE and r.value == "main" for r in (aset.roles or [])),
    )


def _protection(element: Any, source: str) -> tuple[ContentProtection, ...]:
    """ContentProtection children, read from the DOM: mpegdash only sees the "cenc:" prefix and
    does not read ClearKey's Laurl."""
    found = []
    for node in _children(element, "ContentProtection"):
        attributes = {a.localName or a.name: a.value for a in node.attributes.values()}
        pssh = [_text(n) for n in node.getElementsByTagNameNS("*", "pssh")]
        laurl = [
            _text(n)
            for n in node.getElementsByTagNameNS("*", "*")
            if (n.localName or "").lower() == "laurl" and _text(n)
        ]
        found.append(
            ContentProtection(
                scheme_id_uri=attributes.get("schemeIdUri", ""),
                value=attributes.get("value"),
                default_kid=attributes.get("default_KID"),
                pssh=pssh[0] if pssh and pssh[0] else None,
                license_url=urljoin(source, laurl[0]) if laurl else None,
            )
        )
    return tuple(found)
