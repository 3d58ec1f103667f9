"""Real libmpv decoding, no window: the engine's segments play to the end, switching up."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("manifest", ["dash/manifest.mpd", "hls-ts/master.m3u8"])
def test_headless_play_decodes_and_reports_qoe(server: tuple[str, Any], manifest: str) -> None:
    pytest.importorskip("mpv", reason="python-mpv needs libmpv (make test installs libmpv2)")
    base, _ = server
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "streamlab.cli",
            "play",
            f"{base}/{manifest}",
            "--headless",
            "--json",
            "--abr",
            "throughput",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["decoded"] is True and result["error"] is None
    assert 0 < result["ttff_s"] < 2.0
    assert result["played_s"] == pytest.approx(8.0, abs=0.1)
    assert result["stall_count"] == 0
    assert (
        result["renditions_played"][0] == 0 and max(result["renditions_played"]) > 0
    )  # switched up
