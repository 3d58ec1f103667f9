"""DASH (ISO/IEC 23009-1) static MPDs -> Presentation, with the `mpegdash` package. Text in only.

Supported addressing: SegmentTemplate with $Number$ (duration-based) or a SegmentTimeline
($Time$ or $Number$), inherited from Period/AdaptationSet/Representation, and SegmentList
(mediaRange gives real sizes). Single-file SegmentBase needs the sidx box, i.e. a fetch, and
is refused with a clear error, as are dynamic (live) and multi-period MPDs.
"""

from __future__ import annotations

import math
import re
from typing import Any
from urllib.parse import urljoin
from xml.dom import minidom
from xml.parsers.expat import ExpatError

from mpegdash.nodes import MPEGDASH
from mpegdash.utils import parse_child_nodes

from abr.manifests.errors import ManifestError
from abr.presentation import MediaTrack, Presentation, Rendition, SegmentRef

_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?"
    r"(?:(?P<s>\d+(?:\.\d+)?)S)?)?$"
)
_TEMPLATE = re.compile(r"\$(RepresentationID|Number|Bandwidth|Time)(?:%0(\d+)d)?\$")


def iso_duration_s(text: str, source: str) -> float:
    match = _DURATION.match(text.strip())
    if not match or text.strip() in ("P", "PT"):
        raise ManifestError(source, f"bad ISO 8601 duration {text!r}")
    parts = {k: float(v) if v else 0.0 for k, v in match.groupdict().items()}
    return parts["d"] * 86400 + parts["h"] * 3600 + parts["m"] * 60 + parts["s"]


def parse_dash(mpd_text: str, base_url: str) -> Presentation:
    if "<MPD" not in mpd_text:
        raise ManifestError(base_url, "not a DASH MPD (no <MPD> element)")
    try:
        mpd: Any = parse_child_nodes(minidom.parseString(mpd_text), "MPD", MPEGDASH)[0]
    except ExpatError as exc:
        raise ManifestError(base_url, f"malformed XML at line {exc.lineno}: {exc}") from exc
    except Exception as exc:  # mpegdash raises assorted types on bad attribute values
        raise ManifestError(base_url, f"malformed MPD: {exc}") from exc
    if (mpd.type or "static") != "static":
        raise ManifestError(base_url, "live (dynamic) MPDs are not supported")
    if not mpd.periods:
        raise ManifestError(base_url, "MPD has no Period")
    if len(mpd.periods) > 1:
        raise ManifestError(base_url, "multi-period MPDs are not supported")
    period = mpd.periods[0]
    total_s = None
    for text in (period.duration, mpd.media_presentation_duration):
        if text:
            total_s = iso_duration_s(text, base_url)
            break
    base = _join(base_url, mpd.base_urls)
    base = _join(base, period.base_urls)
    videos: list[tuple[Rendition, list[float]]] = []
    audio: list[MediaTrack] = []
    subtitles: list[MediaTrack] = []
    for number, aset in enumerate(period.adaptation_sets or []):
        kind = _kind(aset)
        set_base = _join(base, aset.base_urls)
        if kind == "video":
            for rep in aset.representations or []:
                videos.append(_rendition(rep, aset, period, set_base, total_s, base_url))
        elif kind in ("audio", "text"):
            track = MediaTrack(
                kind="audio" if kind == "audio" else "subtitles",
                id=str(aset.id if aset.id is not None else number),
                language=aset.lang,
                name=aset.label,
                url=_join(set_base, (aset.representations or [None])[0].base_urls)
                if aset.representations
                else None,
                codecs=aset.codecs,
            )
            (audio if kind == "audio" else subtitles).append(track)
    if not videos:
        raise ManifestError(base_url, "no video AdaptationSet with Representations")
    counts = {len(durations) for _, durations in videos}
    common = min(counts)
    if max(counts) - common > 1:
        raise ManifestError(base_url, f"renditions disagree on the segment count: {sorted(counts)}")
    renditions = tuple(
        sorted(
            (_truncate(r, common) for r, _ in videos),
            key=lambda r: r.bandwidth_bps,
        )
    )
    timeline = tuple(videos[0][1][:common])
    return Presentation(renditions, timeline, tuple(audio), tuple(subtitles), source=base_url)


def _truncate(rendition: Rendition, count: int) -> Rendition:
    if len(rendition.segments) == count:
        return rendition
    return Rendition(
        rendition.id,
        rendition.bandwidth_bps,
        rendition.segments[:count],
        rendition.width,
        rendition.height,
        rendition.codecs,
        rendition.frame_rate,
        rendition.init,
    )


def _kind(aset: Any) -> str:
    hints = [aset.content_type, aset.mime_type] + [
        r.mime_type for r in (aset.representations or [])
    ]
    for hint in hints:
        if hint:
            for kind in ("video", "audio", "text"):
                if hint.startswith(kind):
                    return kind
            if "vtt" in hint or "ttml" in hint:
                return "text"
    if any(r.width for r in (aset.representations or [])) or aset.width:
        return "video"
    return "other"


def _join(base: str, base_urls: Any) -> str:
    if base_urls:
        return urljoin(base, str(base_urls[0].base_url_value))
    return base


def _first(*candidates: Any) -> Any:
    for candidate in candidates:
        if candidate:
            return candidate[0]
    return None


def _fill(template: str, rep: Any, number: int, time: int) -> str:
    def replace(match: re.Match[str]) -> str:
        name, width = match.group(1), match.group(2)
        value: Any = {
            "RepresentationID": rep.id,
            "Number": number,
            "Bandwidth": rep.bandwidth,
            "Time": time,
        }[name]
        return f"{value:0{width}d}" if width else str(value)

    return _TEMPLATE.sub(replace, template).replace("$$", "$")


def _rendition(
    rep: Any, aset: Any, period: Any, base: str, total_s: float | None, source: str
) -> tuple[Rendition, list[float]]:
    if not rep.bandwidth:
        raise ManifestError(source, f"Representation {rep.id!r} has no bandwidth")
    rep_base = _join(base, rep.base_urls)
    template = _first(rep.segment_templates, aset.segment_templates, period.segment_templates)
    listing = _first(rep.segment_lists, aset.segment_lists, period.segment_lists)
    refs: list[tuple[str, tuple[int, int] | None]]
    init: SegmentRef | None = None
    if template is not None:
        durations, numbers, times = _template_timeline(template, total_s, source, rep.id)
        if not template.media:
            raise ManifestError(source, f"Representation {rep.id!r}: SegmentTemplate has no media")
        refs = [
            (urljoin(rep_base, _fill(template.media, rep, n, t)), None)
            for n, t in zip(numbers, times, strict=True)
        ]
        if template.initialization:
            init = SegmentRef(
                urljoin(rep_base, _fill(template.initialization, rep, 0, 0)), 0.0, True
            )
    elif listing is not None:
        durations, refs = _list_timeline(listing, rep_base, total_s, source, rep.id)
        if listing.initializations:
            init = SegmentRef(
                urljoin(rep_base, listing.initializations[0].source_url or ""), 0.0, True
            )
    else:
        raise ManifestError(
            source, f"Representation {rep.id!r}: only SegmentTemplate and SegmentList are supported"
        )
    bandwidth = int(rep.bandwidth)
    segments = tuple(
        SegmentRef(url, (r[1] - r[0] + 1) * 8.0 if r else bandwidth * d, r is None, r)
        for (url, r), d in zip(refs, durations, strict=True)
    )
    frame_rate = _frame_rate(rep.frame_rate or aset.frame_rate)
    rendition = Rendition(
        id=str(rep.id),
        bandwidth_bps=bandwidth,
        segments=segments,
        width=rep.width or aset.width,
        height=rep.height or aset.height,
        codecs=rep.codecs or aset.codecs,
        frame_rate=frame_rate,
        init=init,
    )
    return rendition, durations


def _frame_rate(text: str | None) -> float | None:
    if not text:
        return None
    num, _, den = text.partition("/")
    try:
        return float(num) / float(den or 1)
    except (ValueError, ZeroDivisionError):
        return None


def _template_timeline(
    template: Any, total_s: float | None, source: str, rid: str
) -> tuple[list[float], list[int], list[int]]:
    timescale = template.timescale or 1
    start_number = template.start_number if template.start_number is not None else 1
    if template.segment_timelines:
        durations: list[float] = []
        times: list[int] = []
        t = 0
        entries = template.segment_timelines[0].Ss or []
        for i, s in enumerate(entries):
            if s.t is not None:
                t = s.t
            if not s.d or s.d <= 0:
                raise ManifestError(
                    source, f"Representation {rid!r}: S element {i} has no duration"
                )
            repeat = s.r or 0
            if repeat < 0:
                if total_s is None:
                    raise ManifestError(source, f"Representation {rid!r}: r=-1 needs a duration")
                repeat = max(math.ceil((total_s * timescale - t) / s.d) - 1, 0)
            for _ in range(repeat + 1):
                times.append(t)
                durations.append(s.d / timescale)
                t += s.d
        if not durations:
            raise ManifestError(source, f"Representation {rid!r}: empty SegmentTimeline")
        numbers = list(range(start_number, start_number + len(durations)))
        return durations, numbers, times
    if not template.duration or total_s is None:
        raise ManifestError(
            source, f"Representation {rid!r}: SegmentTemplate needs a duration and the MPD a length"
        )
    seg_s = template.duration / timescale
    count = max(math.ceil(total_s / seg_s - 1e-9), 1)
    durations = [seg_s] * count
    durations[-1] = max(total_s - seg_s * (count - 1), 1e-3)
    numbers = list(range(start_number, start_number + count))
    times = [(n - start_number) * template.duration for n in numbers]
    return durations, numbers, times


def _list_timeline(
    listing: Any, base: str, total_s: float | None, source: str, rid: str
) -> tuple[list[float], list[tuple[str, tuple[int, int] | None]]]:
    urls = listing.segment_urls or []
    if not urls or not listing.duration:
        raise ManifestError(
            source, f"Representation {rid!r}: SegmentList needs SegmentURLs and a duration"
        )
    seg_s = listing.duration / (listing.timescale or 1)
    refs: list[tuple[str, tuple[int, int] | None]] = []
    for u in urls:
        byte_range = None
        if u.media_range:
            first, _, last = u.media_range.partition("-")
            byte_range = (int(first), int(last))
        refs.append((urljoin(base, u.media or ""), byte_range))
    durations = [seg_s] * len(refs)
    if total_s is not None:
        durations[-1] = max(total_s - seg_s * (len(refs) - 1), 1e-3)
    return durations, refs
