"""HLS (RFC 8216) VOD playlists -> Presentation, with the `m3u8` package. Text in, no fetching.

Two steps, because a master playlist names media playlists the caller must fetch:
`media_playlist_urls(master, base)` lists them; `parse_hls(master, base, {url: text})` builds
the presentation. A media playlist passed as the "master" is a single-rendition presentation.
Byte-range segments (EXT-X-BYTERANGE) carry their real sizes; other sizes are estimated
from the declared bandwidth and flagged. Renditions whose segment counts differ by one at
the end (the muxer's last, short segment) are truncated to the common count; larger
differences are an error, since the renditions would not share a timeline.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import urljoin

import m3u8

from abr.manifests.errors import ManifestError
from abr.presentation import MediaTrack, Presentation, Rendition, SegmentRef


def _load(text: str, url: str) -> Any:
    if not text.lstrip().startswith("#EXTM3U"):
        raise ManifestError(url, "not an HLS playlist (no #EXTM3U header)")
    try:
        return m3u8.loads(text, uri=url)
    except Exception as exc:  # the parser raises assorted types on malformed input
        raise ManifestError(url, f"malformed playlist: {exc}") from exc


def media_playlist_urls(master_text: str, base_url: str) -> list[str]:
    """Absolute URLs of the variant media playlists (empty for a media playlist itself)."""
    playlist = _load(master_text, base_url)
    if not playlist.is_variant:
        return []
    return list(dict.fromkeys(urljoin(base_url, p.uri) for p in playlist.playlists))


def parse_hls(
    master_text: str, base_url: str, media_playlists: Mapping[str, str] | None = None
) -> Presentation:
    master = _load(master_text, base_url)
    if not master.is_variant:
        return _assemble([_rendition_from_media(master, base_url, "0", None, {})], base_url, (), ())
    media_playlists = media_playlists or {}
    parsed = []
    for i, variant in enumerate(master.playlists):
        url = urljoin(base_url, variant.uri)
        if url not in media_playlists:
            raise ManifestError(base_url, f"media playlist {url} was not provided")
        info = variant.stream_info
        media = _load(media_playlists[url], url)
        parsed.append(_rendition_from_media(media, url, str(i), info, _stream_attributes(info)))
    audio, subtitles = _media_tracks(master, base_url)
    return _assemble(parsed, base_url, audio, subtitles)


def _stream_attributes(info: Any) -> dict[str, Any]:
    width = height = None
    if info.resolution:
        width, height = info.resolution
    return {
        "bandwidth": info.bandwidth or info.average_bandwidth,
        "width": width,
        "height": height,
        "codecs": info.codecs,
        "frame_rate": float(info.frame_rate) if info.frame_rate else None,
    }


def _rendition_from_media(
    media: Any, url: str, rid: str, info: Any, attributes: dict[str, Any]
) -> tuple[dict[str, Any], list[float], list[tuple[str, tuple[int, int] | None]], Any]:
    if media.is_variant:
        raise ManifestError(url, "expected a media playlist, got a master playlist")
    if not media.is_endlist and (media.playlist_type or "").upper() != "VOD":
        raise ManifestError(url, "live playlists are not supported (no #EXT-X-ENDLIST)")
    if not media.segments:
        raise ManifestError(url, "media playlist has no segments")
    durations: list[float] = []
    refs: list[tuple[str, tuple[int, int] | None]] = []
    next_offset = 0
    for number, segment in enumerate(media.segments):
        if segment.duration is None or segment.duration <= 0:
            raise ManifestError(url, f"segment {number} has no positive #EXTINF duration")
        durations.append(float(segment.duration))
        byte_range = None
        if segment.byterange:
            length_text, _, offset_text = str(segment.byterange).partition("@")
            offset = int(offset_text) if offset_text else next_offset
            length = int(length_text)
            byte_range = (offset, offset + length - 1)
            next_offset = offset + length
        refs.append((urljoin(url, segment.uri), byte_range))
    init = None
    first = media.segments[0]
    if getattr(first, "init_section", None) is not None:
        section = first.init_section
        init_range = None
        if section.byterange:
            length_text, _, offset_text = str(section.byterange).partition("@")
            offset = int(offset_text or 0)
            init_range = (offset, offset + int(length_text) - 1)
        init = SegmentRef(urljoin(url, section.uri), 0.0, True, init_range)
    attributes = dict(attributes)
    attributes["id"] = rid
    return attributes, durations, refs, init


def _media_tracks(
    master: Any, base_url: str
) -> tuple[tuple[MediaTrack, ...], tuple[MediaTrack, ...]]:
    audio: list[MediaTrack] = []
    subtitles: list[MediaTrack] = []
    for media in master.media:
        kind = (media.type or "").upper()
        track = MediaTrack(
            kind="audio" if kind == "AUDIO" else "subtitles",
            id=f"{media.group_id}/{media.name}",
            language=media.language,
            name=media.name,
            url=urljoin(base_url, media.uri) if media.uri else None,
            is_default=(media.default or "").upper() == "YES",
        )
        if kind == "AUDIO":
            audio.append(track)
        elif kind == "SUBTITLES":
            subtitles.append(track)
    return tuple(audio), tuple(subtitles)


def _assemble(
    parsed: list[tuple[dict[str, Any], list[float], list[tuple[str, tuple[int, int] | None]], Any]],
    source: str,
    audio: tuple[MediaTrack, ...],
    subtitles: tuple[MediaTrack, ...],
) -> Presentation:
    counts = {len(durations) for _, durations, _, _ in parsed}
    common = min(counts)
    if max(counts) - common > 1:
        raise ManifestError(source, f"renditions disagree on the segment count: {sorted(counts)}")
    timeline = parsed[0][1][:common]
    renditions = []
    for attributes, durations, refs, init in parsed:
        bandwidth = attributes.get("bandwidth")
        if not bandwidth:
            # A lone media playlist declares no bandwidth: without sizes it cannot be estimated.
            if any(r is None for _, r in refs):
                raise ManifestError(
                    source, "no BANDWIDTH and no byte ranges: segment sizes unknown"
                )
            total = sum(r[1] - r[0] + 1 for _, r in refs if r is not None)
            bandwidth = round(total * 8 / sum(durations))
        segments = tuple(
            SegmentRef(
                url,
                (r[1] - r[0] + 1) * 8.0 if r else bandwidth * duration,
                r is None,
                r,
            )
            for (url, r), duration in zip(refs[:common], durations[:common], strict=True)
        )
        renditions.append(
            Rendition(
                id=attributes["id"],
                bandwidth_bps=int(bandwidth),
                segments=segments,
                width=attributes.get("width"),
                height=attributes.get("height"),
                codecs=attributes.get("codecs"),
                frame_rate=attributes.get("frame_rate"),
                init=init,
            )
        )
    renditions.sort(key=lambda r: r.bandwidth_bps)
    return Presentation(tuple(renditions), tuple(timeline), audio, subtitles, source=source)
