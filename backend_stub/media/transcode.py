"""Source file → a title's published files: the steps of `transcode` in order (ladder
encode into CMAF fMP4 with HLS `master.m3u8` and DASH `manifest.mpd` over one set of segments,
optional HLS-TS, encryption, subtitles, poster and trick-play sprite). Writes into a fresh
directory; the worker publishes that directory to the object store as a whole."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend_stub.media.artwork import poster, thumbnail_sprite
from backend_stub.media.encode import encode_cmaf, join_rungs, scaled_width
from backend_stub.media.encryption import package_cenc
from backend_stub.media.ffmpeg import check_audio, probe
from backend_stub.media.hls_ts import package_hls_ts
from backend_stub.media.ladder import probe_complexity, select_ladder
from backend_stub.media.subtitles import add_subtitles


@dataclass(frozen=True)
class TranscodeOptions:
    segment_seconds: int = 4
    preset: str = "veryfast"
    max_height: int = 2160
    per_title: bool = False
    hls_ts: bool = False
    thumbnails: bool = True
    # (key_id_hex, key_hex): CENC for the CMAF set (Shaka Packager), AES-128 for HLS-TS.
    content_key: tuple[str, str] | None = None
    # Where HLS playlists point players for the key: the AES-128 key of the HLS-TS set and
    # the identity (ClearKey) key of the CMAF set are the same 16 bytes.
    hls_key_uri: str = ""
    protection_scheme: str = "cenc"  # CMAF set: "cenc" (AES-CTR) or "cbcs" (AES-CBC pattern)


@dataclass
class MediaInfo:
    duration_seconds: float
    source_width: int
    source_height: int
    has_audio: bool
    complexity: float
    rungs: list[dict[str, int]] = field(default_factory=list)
    packagings: list[str] = field(default_factory=list)
    poster: str | None = None
    thumbnails_vtt: str | None = None
    subtitles: list[dict[str, str]] = field(default_factory=list)
    audio_tracks: list[dict[str, Any]] = field(default_factory=list)
    encryption: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def transcode(
    source: Path,
    out_dir: Path,
    opts: TranscodeOptions,
    subtitles: list[tuple[str, Path]] | None = None,
    extra_audio: list[tuple[str, Path]] | None = None,
) -> MediaInfo:
    """extra_audio: (language, file) tracks uploaded beside the source, added after the
    source's own audio streams."""
    info = probe(source)
    extra = extra_audio or []
    for lang, path in extra:
        check_audio(path, f"audio track {lang!r} ({path.name})")
    languages = info.audio_languages + tuple(lang for lang, _ in extra)
    complexity = probe_complexity(source, info.duration_seconds) if opts.per_title else 1.0
    ladder = select_ladder(info.height, opts.max_height, complexity)
    out_dir.mkdir(parents=True, exist_ok=True)
    media = MediaInfo(
        info.duration_seconds, info.width, info.height, bool(languages), round(complexity, 3)
    )
    encode_cmaf(source, info, ladder, out_dir, extra, opts.segment_seconds, opts.preset)
    media.packagings.append("cmaf")
    media.rungs = [
        {
            "index": i,
            "height": r.height,
            "width": scaled_width(info, r.height),
            "bitrate_kbps": r.bitrate_kbps,
        }
        for i, r in enumerate(ladder)
    ]
    media.audio_tracks = [
        {"language": lang, "name": lang, "default": k == 0, "rendition": f"r{len(ladder) + k}"}
        for k, lang in enumerate(languages)
    ]
    joined = join_rungs(out_dir, len(ladder) + len(languages))
    try:
        if opts.hls_ts:
            package_hls_ts(
                out_dir,
                joined,
                len(ladder),
                languages,
                opts.segment_seconds,
                opts.content_key,
                opts.hls_key_uri,
            )
            media.packagings.append("hls-ts")
            if opts.content_key:
                media.encryption["hls-ts"] = "aes-128"
        if opts.content_key:
            package_cenc(
                out_dir,
                joined,
                len(ladder),
                languages,
                opts.segment_seconds,
                opts.content_key,
                opts.protection_scheme,
                opts.hls_key_uri,
            )
            media.encryption["cmaf"] = opts.protection_scheme
    finally:
        for path in joined:
            path.unlink(missing_ok=True)
    media.subtitles = add_subtitles(out_dir, subtitles or [], info.duration_seconds)
    if opts.thumbnails:
        media.poster = poster(source, info, out_dir)
        media.thumbnails_vtt = thumbnail_sprite(source, info, out_dir)
    return media
