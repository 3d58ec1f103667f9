"""Pictures of a title taken from its source: the poster for the catalog and the trick-play
sprite sheet with its WebVTT thumbnail track for the seek bar."""

from __future__ import annotations

import math
from pathlib import Path

from backend_stub.media.ffmpeg import SourceInfo, ffmpeg_prefix, run

# A catalog picture: one frame, 360 lines high, as a JPEG.
POSTER_FRAME = ["-frames:v", "1", "-vf", "scale=-2:360", "-q:v", "4"]


def poster(source: Path, info: SourceInfo, out: Path) -> str:
    at = min(info.duration_seconds * 0.3, 10.0)
    run(
        [
            *ffmpeg_prefix(),
            "-ss",
            f"{at:.2f}",
            "-i",
            str(source),
            *POSTER_FRAME,
            str(out / "poster.jpg"),
        ],
        "poster",
    )
    return "poster.jpg"


def still_from_fragment(init: Path, fragment: Path, out: Path, timeout_s: float = 10.0) -> None:
    """The first frame of a CMAF fragment (its init segment prepended), as a poster: a live
    channel's catalog picture of what is on now."""
    run(
        [*ffmpeg_prefix(), "-i", f"concat:{init}|{fragment}", *POSTER_FRAME, str(out)],
        "channel still",
        timeout=timeout_s,
    )


def thumbnail_sprite(
    source: Path, info: SourceInfo, out: Path, tile_w: int = 160, tile_h: int = 90
) -> str:
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
            *ffmpeg_prefix(),
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
        cues += [
            f"{_vtt_time(start)} --> {_vtt_time(end)}",
            f"sprite.jpg#xywh={x},{y},{tile_w},{tile_h}",
            "",
        ]
    (thumbs / "thumbnails.vtt").write_text("\n".join(cues))
    return "thumbs/thumbnails.vtt"


def _vtt_time(seconds: float) -> str:
    ms = round(seconds * 1000)
    return f"{ms // 3600000:02d}:{ms // 60000 % 60:02d}:{ms // 1000 % 60:02d}.{ms % 1000:03d}"
