"""HLS (RFC 8216) playlists -> Presentation, with the `m3u8` package. Text in, no fetching.

Two steps, because a master playlist names media playlists that the caller must fetch:

    urls = media_playlist_urls(master_text, master_url)        # what to fetch
    texts = {url: fetch(url) for url in urls}                   # the caller's I/O
    presentation = parse_hls(master_text, master_url, texts)

A media playlist passed as the "master" is a one-rendition presentation. Sizes come from
EXT-X-BYTERANGE when present (exact), else are bandwidth x duration (flagged as estimates).
VOD, EVENT and live (sliding window) playlists: one without EXT-X-ENDLIST (and not
PLAYLIST-TYPE:VOD) gives a live `Timeline` numbered by EXT-X-MEDIA-SEQUENCE, with its
discontinuities, EXT-X-DISCONTINUITY-SEQUENCE and, from EXT-X-PROGRAM-DATE-TIME, each segment's
wall-clock time. A reload goes through `abr.manifests.live.refreshed`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin

import m3u8

from abr.manifests._ladder import (
    MAX_BANDWIDTH_BPS,
    MAX_BYTE_OFFSET,
    MAX_SEGMENT_BITS,
    MAX_SEGMENT_S,
    MAX_SEGMENTS,
    Resolver,
    assemble,
    integer_text,
    segment,
)
from abr.manifests.errors import ManifestError
from abr.manifests.protection import HlsKey
from abr.presentation import MediaTrack, Presentation, Rendition, SegmentRef, Timeline

# RFC 6381 codec prefixes that are not video: a variant made only of these is audio-only.
_AUDIO_CODECS = ("mp4a", "ac-3", "ec-3", "ac-4", "opus", "flac", "alac", "mp3", "dts")
_TEXT_CODECS = ("wvtt", "stpp")
# At most 19 digits: 2^63 is beyond any file, and int() refuses thousands of digits.
_BYTERANGE = re.compile(r"^\s*(\d{1,19})(?:@(\d{1,19}))?\s*$")


def media_playlist_urls(master_text: str, base_url: str) -> list[str]:
    """Absolute URLs of the media playlists `parse_hls` needs, in master order, without repeats.

    These are the video variants only: audio-only variants are left out when the master has video
    ones (they would not share the video timeline), and EXT-X-MEDIA audio/subtitle playlists are
    not needed to build the ladder; their URLs are on `Presentation.audio_tracks[i].url` and
    `subtitle_tracks[i].url` for a player to fetch. Empty when `master_text` is itself a media
    playlist. Raises ManifestError if the text is not a playlist.
    """
    master = _load(master_text, base_url)
    if not master.is_variant:
        return []
    return [url for _, url, _ in _variants(master, base_url)]


def parse_hls(
    master_text: str, base_url: str, media_playlists: Mapping[str, str] | None = None
) -> Presentation:
    """Build the presentation from a master playlist and its media playlists' text.

    `media_playlists` maps each URL from `media_playlist_urls` (absolute, as returned there) to
    the fetched text; segment URIs are resolved against that URL, so pass the URL after any
    redirect if the server redirected. Not needed when `master_text` is a media playlist.

    Renditions get ids "0", "1", ... in master order (a variant listed twice, e.g. once per
    audio group, counts once, with its first attributes), then are sorted by bandwidth.

    Segment counts: if renditions' counts differ by at most one (a muxer sometimes closes a rung
    with an extra sliver of a segment), all are truncated to the smallest count and the timeline
    is the EXTINF durations of a rendition with that count; a larger difference, or segment
    boundaries more than half a second apart, raises ManifestError: no shared timeline.

    Encryption (EXT-X-KEY) does not prevent parsing; `hls_segment_keys` returns the keys, since
    `Presentation` has no field for them.
    """
    return _parse(master_text, base_url, media_playlists or {})[0]


def hls_segment_keys(
    master_text: str, base_url: str, media_playlists: Mapping[str, str] | None = None
) -> dict[str, tuple[HlsKey | None, ...]]:
    """Per rendition id, the key in force for each segment of `parse_hls`'s result (None: clear).

    Same arguments and errors as `parse_hls`. Limitation: `m3u8` keeps only the last of several
    EXT-X-KEY lines that apply together (one per KEYFORMAT), so only that one is reported.
    """
    presentation, keys = _parse(master_text, base_url, media_playlists or {})
    n = presentation.segment_count
    return {r.id: keys[r.id][:n] for r in presentation.renditions}


# EXT-X-MEDIA carries no bit rate: audio segment sizes are estimated at this (and flagged).
AUDIO_ESTIMATE_BPS = 128_000


def hls_audio_rendition(
    track: MediaTrack, playlist_text: str, video: Presentation | None = None
) -> Rendition:
    """The segments of a separate EXT-X-MEDIA audio track, from its media playlist (which the
    caller fetched from `track.url`): what a player fetches beside the video.

    A live audio playlist slides on its own: with `video` (the presentation parsed from the
    same reload) it is cut to the video's media sequence numbers, so that audio segment i
    goes with video segment i. It may end a segment or more short of the video (not written
    yet); an audio playlist that no longer holds the video's first number is a ManifestError.
    """
    url = track.url or track.id
    media = _read_media(_load(playlist_text, url), playlist_text, url)
    if video is not None and not media.ended:
        first = video.timeline.first_number
        last = min(first + video.segment_count, media.sequence + len(media.durations)) - 1
        if not media.sequence <= first <= last:
            raise ManifestError(
                url,
                f"the audio playlist holds media sequence numbers {media.sequence} to "
                f"{media.sequence + len(media.durations) - 1}, the video from {first}: "
                "not the same moment of the live stream",
            )
        media = media.trimmed(first, last - first + 1)
    segments = tuple(
        _with_init(segment(ref, d, AUDIO_ESTIMATE_BPS, byte_range), own)
        for (ref, byte_range), d, own in zip(media.refs, media.durations, media.inits, strict=True)
    )
    return Rendition(
        id=track.id,
        bandwidth_bps=AUDIO_ESTIMATE_BPS,
        segments=segments,
        codecs=track.codecs,
        init=media.init,
    )


@dataclass(frozen=True, slots=True)
class _Media:
    """One media playlist, read: what the rendition needs besides the master's attributes."""

    durations: list[float]
    refs: list[tuple[str, tuple[int, int] | None]]
    init: SegmentRef | None
    keys: list[HlsKey | None]
    # A segment's own EXT-X-MAP where it differs from the first one's (after a discontinuity).
    inits: list[SegmentRef | None]
    sequence: int  # EXT-X-MEDIA-SEQUENCE: the number of the first segment
    discontinuities: list[int]  # indices of the segments tagged EXT-X-DISCONTINUITY
    discontinuity_sequence: int
    dates: list[float] | None  # EXT-X-PROGRAM-DATE-TIME of each segment's start, UTC epoch s
    target_s: float
    ended: bool  # EXT-X-ENDLIST, or PLAYLIST-TYPE:VOD

    def trimmed(self, first_number: int, count: int) -> _Media:
        """The `count` segments from number `first_number` (which this playlist holds)."""
        a = first_number - self.sequence
        b = a + count
        return _Media(
            self.durations[a:b],
            self.refs[a:b],
            self.init,
            self.keys[a:b],
            self.inits[a:b],
            first_number,
            [i - a for i in self.discontinuities if a <= i < b],
            # Each discontinuity that slid out of the window counts in the sequence.
            self.discontinuity_sequence + sum(1 for i in self.discontinuities if i < a),
            self.dates[a:b] if self.dates is not None else None,
            self.target_s,
            self.ended,
        )


def _parse(
    master_text: str, base_url: str, media_playlists: Mapping[str, str]
) -> tuple[Presentation, dict[str, tuple[HlsKey | None, ...]]]:
    master = _load(master_text, base_url)
    if not master.is_variant:
        media = _read_media(master, master_text, base_url)
        rendition = _rendition("0", media, {}, base_url, None)
        presentation = assemble([(rendition, media.durations)], base_url, live=_timeline([media]))
        return presentation, {"0": tuple(media.keys)}
    variants = _variants(master, base_url)
    if not variants:
        raise ManifestError(base_url, "master playlist lists no variant streams")
    uri_lines = _uri_lines(master_text)
    read: list[tuple[_Media, Mapping[str, Any], int | None]] = []
    for index, url, variant in variants:
        line = uri_lines[index] if index < len(uri_lines) else None
        if url not in media_playlists:
            raise ManifestError(base_url, f"media playlist {url} was not provided", line)
        text = media_playlists[url]
        read.append(
            (_read_media(_load(text, url), text, url), _attributes(variant.stream_info), line)
        )
    medias = _common_range([media for media, _, _ in read], base_url)
    parsed: list[tuple[Rendition, list[float]]] = []
    keys: dict[str, tuple[HlsKey | None, ...]] = {}
    for rid, (media, (_, attributes, line)) in enumerate(zip(medias, read, strict=True)):
        # Attribute errors point at the variant's line in the master, hence base_url here.
        rendition = _rendition(str(rid), media, attributes, base_url, line)
        parsed.append((rendition, media.durations))
        keys[str(rid)] = tuple(media.keys)
    audio, subtitles = _media_tracks(master, base_url)
    return assemble(parsed, base_url, audio, subtitles, _timeline(medias)), keys


def _common_range(medias: list[_Media], source: str) -> list[_Media]:
    """The variants cut to the media sequence numbers they all hold.

    Live variants are written one after the other, so one may already list a segment the
    others do not (or still list one they dropped): that is normal, and the ladder keeps the
    numbers every variant has. VOD variants all start at the same number and are left alone
    (`assemble` deals with a ragged last segment). Variants with no number in common do not
    describe the same moment of the stream: a ManifestError.
    """
    if all(media.ended for media in medias):
        return medias
    first = max(media.sequence for media in medias)
    last = min(media.sequence + len(media.durations) - 1 for media in medias)
    if last < first:
        raise ManifestError(
            source,
            f"the variants share no media sequence number (they hold {first - 1} at most "
            f"and {last + 1} at least): not the same live stream, or one is stale",
        )
    return [media.trimmed(first, last - first + 1) for media in medias]


def _timeline(medias: list[_Media]) -> Timeline:
    """What the (cut) media playlists say about time; the first variant is the reference."""
    media = medias[0]
    if all(m.ended for m in medias):
        return Timeline(
            first_number=media.sequence,
            available_at_utc_s=_ends(media),
            discontinuities=tuple(media.discontinuities),
            discontinuity_sequence=media.discontinuity_sequence,
        )
    return Timeline(
        live=True,
        ended=False,
        first_number=media.sequence,
        start_is_absolute=False,
        available_at_utc_s=_ends(media),
        window_s=sum(media.durations),
        refresh_s=media.target_s,
        discontinuities=tuple(media.discontinuities),
        discontinuity_sequence=media.discontinuity_sequence,
    )


def _ends(media: _Media) -> tuple[float, ...] | None:
    """A segment is complete, so available, at its program date-time plus its duration."""
    if media.dates is None:
        return None
    return tuple(start + d for start, d in zip(media.dates, media.durations, strict=True))


def _load(text: str, url: str) -> Any:
    if not isinstance(text, str):
        raise ManifestError(url, f"expected playlist text, got {type(text).__name__}")
    text = text.removeprefix("\ufeff")  # a UTF-8 BOM some servers prepend
    if not text.lstrip().startswith("#EXTM3U"):
        raise ManifestError(url, "not an HLS playlist (no #EXTM3U header)")
    try:
        return m3u8.loads(text, uri=url)
    except Exception as exc:  # m3u8 raises ValueError, IndexError, KeyError... on bad values
        # A KeyError is m3u8 looking up a required attribute (BANDWIDTH) that is not there.
        problem = f"missing attribute {exc.args[0]!r}" if isinstance(exc, KeyError) else repr(exc)
        raise ManifestError(
            url, f"malformed playlist ({problem})", _failing_line(text, exc)
        ) from exc


def _failing_line(text: str, exc: BaseException) -> int | None:
    """The line m3u8 choked on: m3u8 does not say, so look in its parser's frame.

    m3u8.parser.parse() walks `for lineno, line in enumerate(lines, 1)` over the stripped text;
    its `lineno` at the time of the exception is the line. If a future m3u8 renames that, fall
    back to bisecting over prefixes (O(log n) reparses; this is the error path only).
    """
    tb = exc.__traceback__
    lineno = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_name == "parse" and code.co_filename.replace("\\", "/").endswith(
            "m3u8/parser.py"
        ):
            found = tb.tb_frame.f_locals.get("lineno")
            lineno = found if isinstance(found, int) else lineno
        tb = tb.tb_next
    if lineno is not None:
        return lineno + text[: len(text) - len(text.lstrip())].count("\n")
    lines = text.splitlines(keepends=True)
    lo, hi = 0, len(lines)  # invariant: the first `lo` lines parse, the first `hi` do not
    if lo == hi or _parses(text):
        return None  # the failure is not tied to a line
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if _parses("".join(lines[:mid])):
            lo = mid
        else:
            hi = mid
    return hi


def _parses(text: str) -> bool:
    try:
        m3u8.loads(text)
    except Exception:
        return False
    return True


def _uri_lines(text: str) -> list[int]:
    """1-based numbers of the URI lines: the i-th names the i-th segment (or variant)."""
    text = text.removeprefix("\ufeff")
    return [n for n, line in enumerate(text.splitlines(), 1) if line.strip() and line[0] != "#"]


def _variants(master: Any, base_url: str) -> list[tuple[int, str, Any]]:
    """(index in the master, absolute URL, m3u8 Playlist) of the variants that form the ladder."""
    seen: set[str] = set()
    chosen = []
    for index, variant in enumerate(master.playlists):
        url = urljoin(base_url, str(variant.uri))
        if url not in seen:
            seen.add(url)
            chosen.append((index, url, variant))
    # Audio-only variants (CODECS lists only audio, no RESOLUTION) are the low rung of muxed
    # audio+video ladders per Apple's authoring spec, or ffmpeg's listing of its audio group;
    # they do not share the video's timeline. Keep them only if there is nothing else.
    video = [v for v in chosen if not _audio_only(v[2].stream_info)]
    return video or chosen


def _audio_only(info: Any) -> bool:
    codecs = [c.strip().lower() for c in str(info.codecs or "").split(",") if c.strip()]
    return not info.resolution and bool(codecs) and all(c.startswith(_AUDIO_CODECS) for c in codecs)


def _attributes(info: Any) -> dict[str, Any]:
    width = height = None
    if info.resolution:
        width, height = (int(x) if int(x) > 0 else None for x in info.resolution)
    frame_rate = float(info.frame_rate) if info.frame_rate else None
    return {
        "bandwidth": info.bandwidth if info.bandwidth is not None else info.average_bandwidth,
        "width": width,
        "height": height,
        "codecs": info.codecs or None,
        # Cosmetic: a nonsensical FRAME-RATE is dropped rather than failing the playlist.
        "frame_rate": frame_rate
        if frame_rate and math.isfinite(frame_rate) and frame_rate > 0
        else None,
    }


def _read_media(media: Any, text: str, url: str) -> _Media:
    if media.is_variant:
        raise ManifestError(url, "expected a media playlist, got a master playlist")
    ended = bool(media.is_endlist) or str(media.playlist_type or "").upper() == "VOD"
    segments = list(media.segments)
    if not segments:
        raise ManifestError(url, "media playlist has no segments")
    if len(segments) > MAX_SEGMENTS:
        raise ManifestError(url, f"{len(segments)} segments: more than the {MAX_SEGMENTS} allowed")
    lines = _uri_lines(text)
    resolve = Resolver(url)
    sequence = _counter(media.media_sequence, "EXT-X-MEDIA-SEQUENCE", text, url)
    discontinuity_sequence = _counter(
        media.discontinuity_sequence, "EXT-X-DISCONTINUITY-SEQUENCE", text, url
    )
    target = media.target_duration
    if target is None and not ended:
        raise ManifestError(url, "a live playlist needs #EXT-X-TARGETDURATION")
    target_s = float(target) if target is not None else 0.0
    if not 0 <= target_s <= MAX_SEGMENT_S:  # NaN fails too
        raise ManifestError(
            url,
            f"EXT-X-TARGETDURATION {target!r} is out of range",
            _tag_line(text, "TARGETDURATION"),
        )
    durations: list[float] = []
    refs: list[tuple[str, tuple[int, int] | None]] = []
    keys: list[HlsKey | None] = []
    inits: list[SegmentRef | None] = []
    discontinuities: list[int] = []
    dates: list[float | None] = []
    init_key: tuple[object, object] | None = None
    init: SegmentRef | None = None
    maps: dict[tuple[object, object] | None, SegmentRef | None] = {}
    for i, seg in enumerate(segments):
        line = lines[i] if i < len(lines) else None
        if seg.uri is None:
            raise ManifestError(url, f"segment {i} has #EXTINF but no URI", line)
        duration = float(seg.duration) if seg.duration is not None else math.nan
        if not 0 < duration <= MAX_SEGMENT_S:  # NaN fails too
            raise ManifestError(url, f"segment {i}: bad #EXTINF duration {seg.duration!r}", line)
        durations.append(duration)
        seg_url = resolve(str(seg.uri))
        byte_range = None
        if seg.byterange:
            # An offset-less range continues the previous segment's range in the same resource.
            follows = None
            if refs and refs[-1][0] == seg_url and refs[-1][1] is not None:
                follows = refs[-1][1][1] + 1
            byte_range = _byte_range(str(seg.byterange), follows, url, f"segment {i}", line)
        refs.append((seg_url, byte_range))
        keys.append(_key(seg.key, url, sequence + i, line))
        if seg.discontinuity and i > 0:
            discontinuities.append(i)
        moment = seg.current_program_date_time
        dates.append(moment.timestamp() if moment is not None else None)
        section = seg.init_section
        this_init = (section.uri, section.byterange) if section is not None else None
        if i == 0:
            init_key = this_init
            init = _map(section, url, line)
            inits.append(None)
        elif this_init != init_key:
            # A new EXT-X-MAP (after a discontinuity): the segments from there on carry it.
            if this_init not in maps:
                maps[this_init] = _map(section, url, line)
            inits.append(maps[this_init])
        else:
            inits.append(None)
    return _Media(
        durations,
        refs,
        init,
        keys,
        inits,
        sequence,
        discontinuities,
        discontinuity_sequence,
        _program_dates(dates, durations),
        target_s,
        ended,
    )


def _counter(value: Any, tag: str, text: str, url: str) -> int:
    number = int(value or 0)
    if not 0 <= number <= MAX_BYTE_OFFSET:
        raise ManifestError(
            url, f"{tag} {integer_text(number)} is out of range (0 to 2^63-1)", _tag_line(text, tag)
        )
    return number


def _tag_line(text: str, tag: str) -> int | None:
    lines = text.removeprefix("\ufeff").splitlines()
    return next((n for n, line in enumerate(lines, 1) if tag in line), None)


def _map(section: Any, url: str, line: int | None) -> SegmentRef | None:
    """An EXT-X-MAP as a segment (its range, if any, starts at offset 0 unless it says)."""
    if section is None:
        return None
    init_range = (
        _byte_range(str(section.byterange), 0, url, "EXT-X-MAP", line)
        if section.byterange
        else None
    )
    return segment(urljoin(url, str(section.uri)), 0.0, 0, init_range)


def _program_dates(dates: list[float | None], durations: list[float]) -> list[float] | None:
    """Each segment's EXT-X-PROGRAM-DATE-TIME: m3u8 carries one forward by the durations; the
    segments before the first tag get it carried backwards. None when no segment has one."""
    known = next((i for i, d in enumerate(dates) if d is not None), None)
    if known is None:
        return None
    out: list[float] = []
    anchor = dates[known]
    assert anchor is not None
    before = sum(durations[:known])
    t = anchor - before
    for date, d in zip(dates, durations, strict=True):
        t = date if date is not None else t
        out.append(t)
        t += d
    return out


def _byte_range(
    text: str, follows: int | None, url: str, what: str, line: int | None
) -> tuple[int, int]:
    """Parse "length[@offset]" into inclusive (first, last); `follows` is the implied offset."""
    match = _BYTERANGE.match(text)
    if not match or int(match.group(1)) <= 0:
        raise ManifestError(url, f"{what}: bad BYTERANGE {text!r}", line)
    length = int(match.group(1))
    if match.group(2) is not None:
        offset = int(match.group(2))
    elif follows is not None:
        offset = follows
    else:
        raise ManifestError(
            url, f"{what}: BYTERANGE without offset does not follow a range of the same URI", line
        )
    if length * 8 > MAX_SEGMENT_BITS or offset + length - 1 > MAX_BYTE_OFFSET:
        raise ManifestError(url, f"{what}: BYTERANGE {text!r} is beyond any file", line)
    return offset, offset + length - 1


def _key(key: Any, url: str, sequence_number: int, line: int | None) -> HlsKey | None:
    if key is None or str(key.method or "NONE").upper() == "NONE":
        return None
    method = str(key.method).upper()
    iv: str | None = None
    if key.iv:
        digits = str(key.iv).lower().removeprefix("0x")
        if not re.fullmatch(r"[0-9a-f]{1,32}", digits):
            raise ManifestError(url, f"EXT-X-KEY: bad IV {key.iv!r}", line)
        iv = "0x" + digits.zfill(32)
    elif method == "AES-128":
        # RFC 8216 5.2: the media sequence number as a 128-bit big-endian integer.
        iv = f"0x{sequence_number % (1 << 128):032x}"
    return HlsKey(
        method=method,
        uri=urljoin(url, str(key.uri)) if key.uri else None,
        iv=iv,
        key_format=str(key.keyformat) if key.keyformat else None,
        key_format_versions=str(key.keyformatversions) if key.keyformatversions else None,
    )


def _rendition(
    rid: str, media: _Media, attributes: Mapping[str, Any], url: str, line: int | None
) -> Rendition:
    bandwidth = attributes.get("bandwidth")
    if bandwidth is not None and bandwidth <= 0:
        raise ManifestError(url, f"BANDWIDTH {bandwidth} is not positive", line)
    if not bandwidth:
        if any(r is None for _, r in media.refs):
            raise ManifestError(
                url, "no BANDWIDTH and no byte ranges: the segment sizes are unknown", line
            )
        # RFC 8216's BANDWIDTH is the peak segment bit rate: compute that from the ranges.
        bandwidth = max(
            (r[1] - r[0] + 1) * 8 / d
            for (_, r), d in zip(media.refs, media.durations, strict=True)
            if r
        )
    bandwidth = math.ceil(bandwidth)
    if bandwidth > MAX_BANDWIDTH_BPS:
        # A 400-digit BANDWIDTH would overflow bandwidth x duration, the estimated sizes.
        raise ManifestError(
            url,
            f"BANDWIDTH {integer_text(bandwidth)} is above the {MAX_BANDWIDTH_BPS} allowed",
            line,
        )
    return Rendition(
        id=rid,
        bandwidth_bps=bandwidth,
        segments=tuple(
            _with_init(segment(u, d, bandwidth, r), own)
            for (u, r), d, own in zip(media.refs, media.durations, media.inits, strict=True)
        ),
        width=attributes.get("width"),
        height=attributes.get("height"),
        codecs=attributes.get("codecs"),
        frame_rate=attributes.get("frame_rate"),
        init=media.init,
    )


def _with_init(ref: SegmentRef, init: SegmentRef | None) -> SegmentRef:
    if init is None:
        return ref
    return SegmentRef(ref.url, ref.size_bits, ref.size_is_estimate, ref.byte_range, init)


def _media_tracks(
    master: Any, base_url: str
) -> tuple[tuple[MediaTrack, ...], tuple[MediaTrack, ...]]:
    audio: list[MediaTrack] = []
    subtitles: list[MediaTrack] = []
    for media in master.media:
        kind = str(media.type or "").upper()
        if kind not in ("AUDIO", "SUBTITLES"):
            continue  # CLOSED-CAPTIONS live inside the video; VIDEO groups are alternate angles
        prefixes = _AUDIO_CODECS if kind == "AUDIO" else _TEXT_CODECS
        track = MediaTrack(
            kind="audio" if kind == "AUDIO" else "subtitles",
            id=f"{media.group_id}/{media.name}",
            language=media.language or None,
            name=media.name or None,
            url=urljoin(base_url, str(media.uri)) if media.uri else None,
            codecs=_group_codecs(master, kind.lower(), str(media.group_id), prefixes),
            is_default=str(media.default or "").upper() == "YES",
        )
        (audio if kind == "AUDIO" else subtitles).append(track)
    return tuple(audio), tuple(subtitles)


def _group_codecs(master: Any, attribute: str, group: str, prefixes: tuple[str, ...]) -> str | None:
    """EXT-X-MEDIA has no CODECS: take the matching entries of a variant that uses the group."""
    for variant in master.playlists:
        info = variant.stream_info
        if str(getattr(info, attribute, None) or "") == group and info.codecs:
            found = [
                c.strip() for c in str(info.codecs).split(",") if c.strip().startswith(prefixes)
            ]
            if found:
                return ",".join(found)
    return None
