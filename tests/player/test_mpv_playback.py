"""Real libmpv decoding, no window: the engine's segments play to the end, switching up."""

from __future__ import annotations

from typing import Any

import pytest
from play_cli import play_headless


@pytest.mark.parametrize("manifest", ["dash/manifest.mpd", "hls-ts/master.m3u8"])
def test_headless_play_decodes_and_reports_qoe(server: tuple[str, Any], manifest: str) -> None:
    pytest.importorskip("mpv", reason="python-mpv needs libmpv (make test installs libmpv2)")
    base, _ = server
    result = play_headless(f"{base}/{manifest}")
    assert result["decoded"] is True and result["error"] is None
    assert 0 < result["ttff_s"] < 2.0
    assert result["played_s"] == pytest.approx(8.0, abs=0.1)
    assert result["stall_count"] == 0
    assert (
        result["renditions_played"][0] == 0 and max(result["renditions_played"]) > 0
    )  # switched up
