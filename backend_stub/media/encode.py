"""The ladder encode: one ffmpeg run turns a source into every video rung and audio track as
GOP-aligned CMAF fMP4 segments, with a DASH `manifest.mpd` and an HLS `master.m3u8` over the
same segments; and the rungs joined back into single files for the packaging steps."""

from __future__ import annotations

from pathlib import Path

from backend_stub.media.ffmpeg import SourceInfo, ffmpeg_prefix, run
from backend_stub.media.ladder import AUDIO_KBPS, Rung


def scaled_width(info: SourceInfo, height: int) -> int:
    # Same arithmetic as ffmpeg's scale=-2:H: keep aspect, round to an even number.
    return int(round(info.width * height / info.height / 2) * 2)


def encode_cmaf(
    source: Path,
    info: SourceInfo,
    ladder: list[Rung],
    out: Path,
    extra_audio: list[tuple[str, Path]],
    segment_seconds: int,
    preset: str,
) -> None:
    """Rungs r0..r{n-1} are the ladder's video, then one rendition per audio track: the
    source's own audio streams, then extra_audio's (language, file) tracks."""
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
        *ffmpeg_prefix(),
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
    seg = segment_seconds
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        preset,
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
    _end_with_the_video(out, n, len(audio))
    for playlist in out.glob("media_*.m3u8"):
        playlist.write_text(_vod_playlist(playlist.read_text()))
    master = out / "master.m3u8"
    text = master.read_text()
    for k, lang in enumerate(audio):
        # The dash muxer names HLS audio renditions "audio_N" with no LANGUAGE.
        text = text.replace(f'NAME="audio_{n + k}"', f'NAME="{lang}",LANGUAGE="{lang}"')
    master.write_text(text)


def _end_with_the_video(out: Path, rungs: int, tracks: int) -> None:
    """Drop the audio segments numbered past the video's last from the HLS playlists.

    The AAC encoder's last frame runs past the picture's end; when the picture ends on a
    segment boundary, the dash muxer puts that frame in a segment of its own. The MPD does
    not name it (its template stops at the presentation's duration), the HLS audio playlist
    did, and hls.js never ended such a title: it never saw its audio reach the end of stream
    and stalled 40 ms before the end. Dropped, HLS players get the audio DASH players get
    (it ends half a frame, 10.7 ms at 48 kHz, before the last picture does). The file stays:
    the packagings cut again from the joined rungs (HLS-TS, Shaka's) fold it into their
    last segment."""
    count = len(list((out / "r0").glob("seg-*.m4s")))
    for k in range(rungs, rungs + tracks):
        extra = sorted((out / f"r{k}").glob("seg-*.m4s"))[count:]
        if not extra:
            continue
        names = {f"r{k}/{path.name}" for path in extra}
        playlist = out / f"media_{k}.m3u8"
        lines = playlist.read_text().splitlines()
        # A segment is its #EXTINF line, the tags after it (the muxer writes a
        # PROGRAM-DATE-TIME there) and its URI: drop them all.
        dropped: set[int] = set()
        for i, line in enumerate(lines):
            if line in names:
                start = i
                while start > 0 and not lines[start].startswith("#EXTINF"):
                    start -= 1
                dropped.update(range(start, i + 1))
        playlist.write_text("\n".join(ln for i, ln in enumerate(lines) if i not in dropped) + "\n")


def _vod_playlist(text: str) -> str:
    """The dash muxer writes live-style media playlists; mark them VOD (players then know
    the list is complete) and drop wall-clock PROGRAM-DATE-TIME tags from encode time."""
    lines = [ln for ln in text.splitlines() if not ln.startswith("#EXT-X-PROGRAM-DATE-TIME")]
    if "#EXT-X-PLAYLIST-TYPE:VOD" not in lines:
        lines.insert(1, "#EXT-X-PLAYLIST-TYPE:VOD")
    return "\n".join(lines) + "\n"


def join_rungs(out: Path, count: int) -> list[Path]:
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
