"""Switching renditions in one fMP4 stream when the ladder does not repeat its SPS/PPS in
keyframes (ffmpeg's default): the picture after the switch decodes exactly as the new
rendition does on its own, instead of being read with the old rendition's parameters."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from player.fmp4_params import avc_parameter_sets, with_parameter_sets


@pytest.fixture(scope="module")
def plain_ladder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    out = tmp_path_factory.mktemp("plain-ladder")
    split = "[0:v]split=2[a][b];[a]scale=-2:240[v0];[b]scale=-2:480[v1]"
    cmd = [
        "ffmpeg",
        "-v",
        "error",
        "-y",
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=854x480:rate=24:duration=4",
    ]
    cmd += [
        "-filter_complex",
        split,
        "-map",
        "[v0]",
        "-map",
        "[v1]",
        "-b:v:0",
        "300k",
        "-b:v:1",
        "1000k",
    ]
    cmd += [
        "-c:v",
        "libx264",
        "-preset",
        "ultrafast",
        "-g",
        "48",
        "-keyint_min",
        "48",
        "-sc_threshold",
        "0",
    ]
    cmd += [
        "-f",
        "dash",
        "-seg_duration",
        "2",
        "-use_template",
        "1",
        "-use_timeline",
        "0",
        "manifest.mpd",
    ]
    subprocess.run(cmd, cwd=out, check=True, timeout=120)
    return out


def frame_digests(data: bytes) -> list[str]:
    proc = subprocess.run(
        ["ffmpeg", "-v", "error", "-i", "-", "-autoscale", "0", "-f", "framemd5", "-"],
        input=data,
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = proc.stdout.decode().splitlines()
    return [line.rsplit(",", 1)[-1].strip() for line in lines if not line.startswith("#")]


def test_the_first_segment_after_a_switch_decodes_as_the_new_rendition(plain_ladder: Path) -> None:
    init_low = (plain_ladder / "init-stream0.m4s").read_bytes()
    init_high = (plain_ladder / "init-stream1.m4s").read_bytes()
    low = (plain_ladder / "chunk-stream0-00001.m4s").read_bytes()
    high = (plain_ladder / "chunk-stream1-00002.m4s").read_bytes()
    reference = frame_digests(init_high + high)
    params = avc_parameter_sets(init_high)
    assert params is not None and params.length_size == 4 and len(params.nal_units) == 2

    as_is = frame_digests(init_low + low + high)
    fixed = frame_digests(init_low + low + with_parameter_sets(high, params))
    assert as_is[-len(reference) :] != reference  # the problem is real
    assert fixed[-len(reference) :] == reference


def test_what_it_does_not_recognise_passes_through(plain_ladder: Path) -> None:
    init = (plain_ladder / "init-stream1.m4s").read_bytes()
    params = avc_parameter_sets(init)
    assert params is not None
    assert with_parameter_sets(b"not an mp4 segment at all", params) == b"not an mp4 segment at all"
    assert avc_parameter_sets(b"\x00\x00\x00\x08free") is None
