"""Trick-play thumbnails: a WebVTT track whose cues point into a sprite sheet (`#xywh=`)."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from urllib.parse import urljoin

_TIME = r"(?:(\d+):)?(\d{2}):(\d{2})[.,](\d{3})"
_CUE = re.compile(rf"{_TIME}\s*-->\s*{_TIME}")


class ThumbnailTrackError(ValueError):
    pass


@dataclass(frozen=True)
class Thumbnail:
    start_s: float
    end_s: float
    url: str  # the sprite sheet, absolute
    x: int
    y: int
    w: int
    h: int


def _seconds(h: str | None, m: str, s: str, ms: str) -> float:
    return int(h or 0) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000


def parse_thumbnail_vtt(text: str, base_url: str) -> list[Thumbnail]:
    """Cues in time order; errors name the line."""
    lines = text.splitlines()
    if not lines or not lines[0].startswith("WEBVTT"):
        raise ThumbnailTrackError(f"{base_url}: not a WebVTT file (no WEBVTT header)")
    thumbs: list[Thumbnail] = []
    for number, line in enumerate(lines, 1):
        match = _CUE.search(line)
        if match is None:
            continue
        target = lines[number].strip() if number < len(lines) else ""
        url, _, fragment = target.partition("#xywh=")
        try:
            x, y, w, h = (int(v) for v in fragment.split(","))
        except ValueError:
            raise ThumbnailTrackError(
                f"{base_url}:{number + 1}: expected IMAGE#xywh=x,y,w,h after the cue, got {target!r}"
            ) from None
        g = match.groups()
        thumbs.append(
            Thumbnail(_seconds(*g[:4]), _seconds(*g[4:]), urljoin(base_url, url), x, y, w, h)
        )
    thumbs.sort(key=lambda t: t.start_s)
    return thumbs


def thumbnail_at(thumbs: list[Thumbnail], position_s: float) -> Thumbnail | None:
    i = bisect_right([t.start_s for t in thumbs], position_s) - 1
    return thumbs[i] if i >= 0 else None
