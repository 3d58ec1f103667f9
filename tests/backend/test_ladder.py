"""The ladder: never upscale, and the per-title probe gives static content fewer bits."""

from __future__ import annotations

from pathlib import Path

from backend.helpers import make_clip
from backend_stub.media.ffmpeg import probe
from backend_stub.media.ladder import probe_complexity, select_ladder


def test_ladder_stops_at_the_source_height_and_reaches_4k_only_from_4k() -> None:
    assert [r.height for r in select_ladder(480, 2160)] == [240, 360, 480]
    assert [r.height for r in select_ladder(1080, 2160)] == [240, 360, 480, 720, 1080]
    assert [r.height for r in select_ladder(2160, 2160)][-1] == 2160
    assert [r.height for r in select_ladder(2160, 1080)][-1] == 1080
    assert [r.height for r in select_ladder(100, 2160)] == [240]  # a tiny source still plays


def test_per_title_probe_gives_a_static_title_fewer_bits_than_motion(tmp_path: Path) -> None:
    static = make_clip(tmp_path / "bars.mp4", seconds=4, size="640x360", source="smptehdbars")
    busy = make_clip(tmp_path / "motion.mp4", seconds=4, size="640x360", source="testsrc2")
    calm = select_ladder(360, 2160, probe_complexity(static, probe(static).duration_seconds))
    action = select_ladder(360, 2160, probe_complexity(busy, probe(busy).duration_seconds))
    default = select_ladder(360, 2160)
    assert calm[-1].bitrate_kbps < default[-1].bitrate_kbps < action[-1].bitrate_kbps
