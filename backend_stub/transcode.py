"""Source file → ffmpeg ladder → CMAF fMP4 (HLS `master.m3u8` + DASH `manifest.mpd` over one set
of segments), optional HLS-TS, poster and trick-play sprite. Writes into a fresh directory;
the worker publishes that directory to the object store as a whole."""

from __future__ import annotations

import math
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from backend_stub.ffmpeg import SourceInfo, probe, require_tool, run
from backend_stub.ladder import AUDIO_KBPS, Rung, probe_complexity, select_ladder


@dataclass(frozen=True)
class TranscodeOptions:
    segment_seconds: int = 4
    preset: str = "veryfast"
    max_height: int = 2160
    per_title: bool = False
    hls_ts: bool = False
    thumbnails: bool = True


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def transcode(source: Path, out_dir: Path, opts: TranscodeOptions) -> MediaInfo:
    info = probe(source)
    complexity = probe_complexity(source, info.duration_seconds) if opts.per_title else 1.0
    ladder = select_ladder(info.height, opts.max_height, complexity)
    out_dir.mkdir(parents=True, exist_ok=True)
    media = MediaInfo(info.duration_seconds, info.width, info.height, info.has_audio, round(complexity, 3))
    _encode_cmaf(source, info, ladder, out_dir, opts)
    media.packagings.append("cmaf")
    media.rungs = [
        {"index": i, "height": r.height, "width": _scaled_width(info, r.height), "bitrate_kbps": r.bitrate_kbps}
        for i, r in enumerate(ladder)
    ]
    if opts.hls_ts:
        _package_hls_ts(out_dir, len(ladder), info.has_audio, opts.segment_seconds)
        media.packagings.append("hls-ts")
    if opts.thumbnails:
        media.poster = _poster(source, info, out_dir)
        media.thumbnails_vtt = _sprite(source, info, out_dir)
    return media


def _scaled_width(info: SourceInfo, height: int) -> int:
    # Same arithmetic as ffmpeg's scale=-2:H: keep aspect, round to an even number.
    return int(round(info.width * height / info.height / 2) * 2)


def _encode_cmaf(source: Path, info: SourceInfo, ladder: list[Rung], out: Path, opts: TranscodeOptions) -> None:
    n = len(ladder)
    for i in range(n + 1):
        # The dash muxer writes r{id}/… but does not create the directories.
        (out / f"r{i}").mkdir(exist_ok=True)
    # scale=-2:H, not a forced square-pixel size: forcing 426x240 gives the rungs conflicting
    # aspect ratios and the DASH muxer refuses them.
    split = f"[0:v]split={n}" + "".join(f"[s{i}]" for i in range(n))
    scales = ";".join(f"[s{i}]scale=-2:{r.height}[v{i}]" for i, r in enumerate(ladder))
    cmd = [require_tool("ffmpeg"), "-v", "error", "-y", "-i", str(source),
           "-filter_complex", f"{split};{scales}"]
    for i in range(n):
        cmd += ["-map", f"[v{i}]"]
    if info.has_audio:
        cmd += ["-map", "0:a:0"]
    seg = opts.segment_seconds
    cmd += [
        "-c:v", "libx264", "-preset", opts.preset, "-profile:v", "high", "-pix_fmt", "yuv420p",
        # Keyframes exactly on segment boundaries in every rung (GOP-aligned switching);
        # no scene-cut keyframes that would make segment lengths differ between rungs.
        "-force_key_frames", f"expr:gte(t,n_forced*{seg})", "-sc_threshold", "0",
        "-g", str(max(1, round(info.fps * seg))), "-keyint_min", str(max(1, round(info.fps * seg))),
        # SPS/PPS in every keyframe: a player can switch rungs by concatenating segments.
        "-x264-params", "repeat-headers=1",
    ]
    for i, r in enumerate(ladder):
        cmd += [f"-b:v:{i}", f"{r.bitrate_kbps}k", f"-maxrate:v:{i}", f"{r.maxrate_kbps}k",
                f"-bufsize:v:{i}", f"{r.bitrate_kbps * 2}k"]
    if info.has_audio:
        cmd += ["-c:a", "aac", "-b:a", f"{AUDIO_KBPS}k", "-ac", "2", "-ar", "48000"]
    sets = "id=0,streams=v id=1,streams=a" if info.has_audio else "id=0,streams=v"
    cmd += [
        "-f", "dash", "-seg_duration", str(seg), "-use_template", "1", "-use_timeline", "0",
        "-hls_playlist", "1", "-hls_master_name", "master.m3u8",
        "-init_seg_name", "r$RepresentationID$/init.m4s",
        "-media_seg_name", "r$RepresentationID$/seg-$Number%05d$.m4s",
        "-adaptation_sets", sets, str(out / "manifest.mpd"),
    ]
    run(cmd, "ffmpeg ladder encode")
    if not info.has_audio:
        (out / f"r{n}").rmdir()
    for playlist in out.glob("media_*.m3u8"):
        playlist.write_text(_vod_playlist(playlist.read_text()))


def _vod_playlist(text: str) -> str:
    """The dash muxer writes live-style media playlists; mark them VOD (players then know
    the list is complete) and drop wall-clock PROGRAM-DATE-TIME tags from encode time."""
    lines = [ln for ln in text.splitlines() if not ln.startswith("#EXT-X-PROGRAM-DATE-TIME")]
    if "#EXT-X-PLAYLIST-TYPE:VOD" not in lines:
        lines.insert(1, "#EXT-X-PLAYLIST-TYPE:VOD")
    return "\n".join(lines) + "\n"


def _package_hls_ts(out: Path, n: int, has_audio: bool, seg: int) -> None:
    """Remux (no re-encode) the CMAF rungs into MPEG-TS; every variant is muxed with the
    same PIDs, so a player can switch by concatenating TS segments too."""
    ts = out / "ts"
    ts.mkdir(exist_ok=True)
    cmd = [require_tool("ffmpeg"), "-v", "error", "-y"]
    inputs: list[Path] = []
    for i in range(n + (1 if has_audio else 0)):
        joined = out / f".joined-{i}.mp4"
        with joined.open("wb") as fh:
            fh.write((out / f"r{i}" / "init.m4s").read_bytes())
            for part in sorted((out / f"r{i}").glob("seg-*.m4s")):
                fh.write(part.read_bytes())
        inputs.append(joined)
        cmd += ["-i", str(joined)]
    stream_map = []
    for i in range(n):
        cmd += ["-map", f"{i}:v"]
        if has_audio:
            cmd += ["-map", f"{n}:a"]
    for i in range(n):
        stream_map.append(f"v:{i},a:{i}" if has_audio else f"v:{i}")
    for i in range(n):
        (ts / f"r{i}").mkdir(exist_ok=True)
    cmd += [
        "-c", "copy", "-f", "hls", "-hls_time", str(seg), "-hls_playlist_type", "vod",
        "-hls_segment_type", "mpegts", "-mpegts_start_pid", "0x100",
        "-hls_segment_filename", str(ts / "r%v" / "seg-%05d.ts"),
        "-master_pl_name", "master.m3u8", "-var_stream_map", " ".join(stream_map),
        str(ts / "r%v" / "index.m3u8"),
    ]
    try:
        run(cmd, "ffmpeg HLS-TS remux")
    finally:
        for joined in inputs:
            joined.unlink(missing_ok=True)


def _poster(source: Path, info: SourceInfo, out: Path) -> str:
    at = min(info.duration_seconds * 0.3, 10.0)
    run([require_tool("ffmpeg"), "-v", "error", "-y", "-ss", f"{at:.2f}", "-i", str(source),
         "-frames:v", "1", "-vf", "scale=-2:360", "-q:v", "4", str(out / "poster.jpg")], "poster")
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
    run([require_tool("ffmpeg"), "-v", "error", "-y", "-i", str(source), "-vf",
         f"fps=1/{interval},scale={tile_w}:{tile_h}:force_original_aspect_ratio=decrease,"
         f"pad={tile_w}:{tile_h}:(ow-iw)/2:(oh-ih)/2,tile={cols}x{rows}",
         "-frames:v", "1", "-q:v", "5", str(thumbs / "sprite.jpg")], "thumbnail sprite")
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
