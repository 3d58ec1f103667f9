"""DASH (ISO/IEC 23009-1) static MPDs -> Presentation, with the `mpegdash` package. Text in only.

`mpegdash.MPEGDASHParser.parse(s)` treats a string without "<MPD" as a URL to `urlopen` or a path
to `open`, which a sans-I/O parser must never do; so the text goes through `minidom.parseString`
and the `mpegdash` node classes directly.

Supported: one Period; video AdaptationSets (every video Representation joins one ladder);
SegmentTemplate with @duration ($Number$) or a SegmentTimeline ($Number$ or $Time$), format tags
such as $Number%05d$, $RepresentationID$, $Bandwidth$; SegmentList (mediaRange gives exact sizes);
SegmentBase (the on-demand profile: one file per rendition, indexed by its sidx box), which gives
an unindexed presentation (`Presentation.is_indexed`) that `abr.manifests.with_indexes` completes
once the boxes are fetched; attributes inherited from AdaptationSet and Period; BaseURL at every
level. Audio and text AdaptationSets become `audio_tracks` / `subtitle_tracks`. Refused with a
ManifestError: dynamic (live) MPDs, several Periods, a ladder mixing SegmentBase with others.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin
from xml.dom import minidom
from xml.parsers.expat import ErrorString, ExpatError

from mpegdash.nodes import MPEGDASH

from abr.manifests._dash_addressing import (
    Addressed,
    Inherited,
    Where,
    from_base,
    from_list,
    from_template,
    iso_duration_s,
)
from abr.manifests._ladder import MAX_BANDWIDTH_BPS, assemble, integer_text, segment
from abr.manifests.errors import ManifestError
from abr.manifests.protection import ContentProtection
from abr.presentation import MediaTrack, Presentation, Rendition

_AUDIO_CODECS = ("mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "alac", "mp3", "dts")
_TEXT_CODECS = ("wvtt", "stpp", "ttml")
_TRICK_MODE = "http://dashif.org/guidelines/trickmode"
_ROLE = "urn:mpeg:dash:role:2011"


def parse_dash(mpd_text: str, base_url: str) -> Presentation:
    """Build the presentation of a static MPD; `base_url` is the MPD's own URL.

    Segment counts may differ by one between Representations (the last one is then dropped from
    the longer ones); see `abr.manifests._ladder.common_count`.
    """
    return _parse(mpd_text, base_url).presentation


def dash_audio_renditions(mpd_text: str, base_url: str) -> dict[str, Rendition]:
    """Per audio track id (`Presentation.audio_tracks[i].id`), its first Representation with
    its segments: what a player fetches beside the video. Same errors as `parse_dash`."""
    return _parse(mpd_text, base_url).audio


def dash_content_protection(
    mpd_text: str, base_url: str
) -> dict[str, tuple[ContentProtection, ...]]:
    """Per video rendition id, the ContentProtection descriptors that apply (empty: clear).

    `Presentation` has no field for them; a player needs them for EME/CENC. Same errors as
    `parse_dash`.
    """
    return _parse(mpd_text, base_url).protection


@dataclass(frozen=True)
class _Parsed:
    presentation: Presentation
    protection: dict[str, tuple[ContentProtection, ...]]
    audio: dict[str, Rendition]


def _parse(mpd_text: str, source: str) -> _Parsed:
    root = _root(mpd_text, source)
    mpd: Any = MPEGDASH()
    try:
        mpd.parse(root)
    except Exception as exc:  # mpegdash converts attributes with int()/float(): ValueError...
        raise ManifestError(source, f"malformed MPD: bad attribute value ({exc})") from exc
    if (mpd.type or "static") != "static":
        raise ManifestError(source, "live (dynamic) MPDs are not supported")
    periods = mpd.periods or []
    if len(periods) != 1:
        raise ManifestError(source, f"expected one Period, found {len(periods)}")
    period = periods[0]
    period_element = _children(root, "Period")[0]
    total_s = _period_duration(mpd, period, source)
    base = _join(_join(source, mpd.base_urls), period.base_urls)

    videos: list[tuple[Rendition, list[float]]] = []
    protection: dict[str, tuple[ContentProtection, ...]] = {}
    audio: list[MediaTrack] = []
    audio_renditions: dict[str, Rendition] = {}
    subtitles: list[MediaTrack] = []
    set_elements = _children(period_element, "AdaptationSet")
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
                    raise ManifestError(source, f"two video Representations with id {rid!r}")
                where = Where(source, f"Representation {rid!r}")
                videos.append(_rendition(rep, rid, aset, period, set_base, total_s, where))
                descriptors = _protection(aset_element, source) + _protection(rep_element, source)
                protection[rid] = descriptors
        elif kind in ("audio", "text") and reps:
            track = _track(kind, index, aset, aset_element, period, set_base)
            (audio if kind == "audio" else subtitles).append(track)
            if kind == "audio" and track.url is None:
                rep = reps[0]
                where = Where(source, f"audio Representation {rep.id!r}")
                rid = str(rep.id) if rep.id else track.id
                audio_renditions[track.id] = _rendition(
                    rep, rid, aset, period, set_base, total_s, where
                )[0]
    if not videos:
        raise ManifestError(source, "no video AdaptationSet with Representations")
    return _Parsed(_presentation(videos, source, audio, subtitles), protection, audio_renditions)


def _presentation(
    videos: list[tuple[Rendition, list[float]]],
    source: str,
    audio: list[MediaTrack],
    subtitles: list[MediaTrack],
) -> Presentation:
    indexed = [r.index is None for r, _ in videos]
    if all(indexed):
        return assemble(videos, source, audio, subtitles)
    if any(indexed):
        raise ManifestError(source, "video Representations mix SegmentBase with other addressing")
    # Unindexed: the segments come from each rendition's sidx (`abr.manifests.with_indexes`).
    renditions = sorted((r for r, _ in videos), key=lambda r: r.bandwidth_bps)
    return Presentation(tuple(renditions), (), tuple(audio), tuple(subtitles), source=source)


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


def _period_duration(mpd: Any, period: Any, source: str) -> float | None:
    if period.duration:
        total = iso_duration_s(period.duration, source)
    elif mpd.media_presentation_duration:
        total = iso_duration_s(mpd.media_presentation_duration, source)
        if period.start:
            total -= iso_duration_s(period.start, source)
    else:
        return None
    if total <= 0:
        raise ManifestError(source, f"the period lasts {total:g} s")
    return total


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
    total_s: float | None,
    where: Where,
) -> tuple[Rendition, list[float]]:
    if not rep.bandwidth or rep.bandwidth <= 0:
        raise where.error("no positive @bandwidth")
    bandwidth = int(rep.bandwidth)
    if bandwidth > MAX_BANDWIDTH_BPS:
        # A 400-digit @bandwidth would overflow bandwidth x duration, the estimated sizes.
        raise where.error(
            f"@bandwidth {integer_text(bandwidth)} is above the {MAX_BANDWIDTH_BPS} allowed"
        )
    rep_base = _join(base, rep.base_urls)
    addressed = _addressing(rep, rid, bandwidth, aset, period, rep_base, total_s, where)
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
    return rendition, addressed.durations


def _addressing(
    rep: Any,
    rid: str,
    bandwidth: int,
    aset: Any,
    period: Any,
    base: str,
    total_s: float | None,
    where: Where,
) -> Addressed:
    """The innermost level that says how segments are addressed decides the scheme; the same
    element at outer levels supplies the attributes it leaves out."""
    levels = (rep, aset, period)
    for level in levels:
        if level.segment_templates:
            nodes = [x.segment_templates[0] for x in levels if x.segment_templates]
            return from_template(Inherited(nodes), rid, bandwidth, base, total_s, where)
        if level.segment_lists:
            nodes = [x.segment_lists[0] for x in levels if x.segment_lists]
            return from_list(Inherited(nodes), base, total_s, where)
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
