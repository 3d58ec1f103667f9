"""The trick-play track: which thumbnail shows while seeking, and errors that name the line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from player.thumbnails import ThumbnailTrackError, parse_thumbnail_vtt, thumbnail_at

BASE = "http://edge/t/tok/media/v1/thumbs/thumbnails.vtt"


def track(n: int, step: int = 2) -> str:
    cues = []
    for i in range(n):
        a, b = i * step, (i + 1) * step
        cues.append(
            f"00:00:{a:02d}.000 --> 00:00:{b:02d}.000\nsprite.jpg#xywh={160 * i},0,160,90\n"
        )
    return "WEBVTT\n\n" + "\n".join(cues)


def test_cues_resolve_against_the_track_url_and_pick_the_right_tile() -> None:
    thumbs = parse_thumbnail_vtt(track(5), BASE)
    assert thumbs[0].url == "http://edge/t/tok/media/v1/thumbs/sprite.jpg"
    shown = thumbnail_at(thumbs, 5.0)
    assert shown is not None and (shown.x, shown.w, shown.h) == (320, 160, 90)
    assert thumbnail_at(thumbs, -1.0) is None


def test_a_bad_cue_target_names_its_line() -> None:
    text = track(2).replace("sprite.jpg#xywh=160,0,160,90", "sprite.jpg#xywh=oops")
    with pytest.raises(ThumbnailTrackError, match=r"thumbnails.vtt:7: expected IMAGE#xywh"):
        parse_thumbnail_vtt(text, BASE)


def test_not_webvtt_is_refused() -> None:
    with pytest.raises(ThumbnailTrackError, match="no WEBVTT header"):
        parse_thumbnail_vtt("<html>", BASE)


@given(st.integers(1, 30), st.floats(0, 200, allow_nan=False))
def test_the_tile_shown_covers_the_seek_target(n: int, position: float) -> None:
    thumbs = parse_thumbnail_vtt(track(n), BASE)
    shown = thumbnail_at(thumbs, position)
    assert shown is not None
    assert shown.start_s <= position
    assert position < shown.end_s or shown is thumbs[-1]
