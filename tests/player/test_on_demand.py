"""DASH on-demand profile (Shaka Packager, SegmentBase + sidx) over real nginx: the engine
indexes each rendition from ranged GETs, then plays it to the end, switching up."""

from __future__ import annotations

import pytest
from play_cli import play_headless
from test_engine import play


def test_the_engine_indexes_then_plays_every_segment(on_demand_site: str) -> None:
    result, sink = play(f"{on_demand_site}/manifest.mpd")
    assert result.failure is None
    presentation = result.presentation
    assert presentation.is_indexed and presentation.segment_count == 4
    assert presentation.duration_s == pytest.approx(8.0, abs=0.05)
    assert [i for i, _, _ in sink.segments] == [0, 1, 2, 3]
    renditions = [q for _, q, _ in sink.segments]
    assert renditions[0] == 0 and max(renditions) > 0  # a switch up after the low start
    for index, q, size in sink.segments:  # exactly the bytes the sidx announced
        byte_range = presentation.renditions[q].segments[index].byte_range
        assert byte_range is not None and size == byte_range[1] - byte_range[0] + 1
    for q, size in sink.inits.items():
        init = presentation.renditions[q].init
        assert init is not None and init.byte_range is not None
        assert size == init.byte_range[1] - init.byte_range[0] + 1
    assert result.metrics.ended_at is not None and result.summary.startup_s < 2.0


def test_a_missing_index_fails_the_session_naming_the_rendition(on_demand_site: str) -> None:
    result, sink = play(f"{on_demand_site}/missing-index.mpd")
    assert result.failure == (f"index of rendition 1 ('1'): HTTP 404 for {on_demand_site}/gone.mp4")
    assert sink.segments == []


def test_headless_play_decodes_the_on_demand_mpd_with_its_audio(on_demand_site: str) -> None:
    pytest.importorskip("mpv", reason="python-mpv needs libmpv (make test installs libmpv2)")
    result = play_headless(f"{on_demand_site}/manifest.mpd")
    assert result["decoded"] is True and result["error"] is None
    assert result["played_s"] == pytest.approx(8.0, abs=0.1)
    assert result["stall_count"] == 0
    assert result["renditions_played"][0] == 0 and max(result["renditions_played"]) > 0
