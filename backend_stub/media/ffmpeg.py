"""Running ffmpeg/ffprobe: probing a source and running a command with a readable error."""

from __future__ import annotations

import contextlib
import ctypes
import json
import shutil
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

from backend_stub.errors import TranscodeError

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> None:
    # A worker killed with SIGKILL cannot clean up: have the kernel kill its ffmpeg too, so
    # the redelivered job does not race an orphan encoder still writing files.
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise TranscodeError(f"{name} is not installed (run scripts/install-system-deps.sh)")
    return path


def ffmpeg_prefix() -> list[str]:
    """How every batch ffmpeg run here starts: errors only, overwriting its outputs."""
    return [require_tool("ffmpeg"), "-v", "error", "-y"]


def run(cmd: list[str], what: str, timeout: float | None = None) -> None:
    proc = subprocess.run(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
        preexec_fn=die_with_parent,
    )
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-8:])
        raise TranscodeError(f"{what} failed (exit {proc.returncode}): {tail}")


def synthesize_clip(
    path: Path, seconds: float, video: str, tone_hz: int = 440, crf: int | None = None
) -> Path:
    """A lavfi test pattern (`video`, e.g. "testsrc2=size=854x480:rate=30") with a sine tone:
    the demo catalog's, the tests' and the benchmarks' source material."""
    cmd = [*ffmpeg_prefix(), "-f", "lavfi", "-i", video]
    cmd += ["-f", "lavfi", "-i", f"sine=frequency={tone_hz}:sample_rate=48000"]
    cmd += ["-t", str(seconds), "-c:v", "libx264", "-preset", "ultrafast"]
    if crf is not None:
        cmd += ["-crf", str(crf)]
    cmd += ["-pix_fmt", "yuv420p", "-c:a", "aac", str(path)]
    run(cmd, f"generating {path.name}")
    return path


@dataclass(frozen=True)
class SourceInfo:
    duration_seconds: float
    width: int
    height: int
    fps: float
    has_audio: bool
    # One entry per audio stream, in stream order: its language tag or "und".
    audio_languages: tuple[str, ...] = ()


def _ffprobe(path: Path, *sections: str) -> subprocess.CompletedProcess[str]:
    """ffprobe's JSON report of `sections` (e.g. "-show_streams") for `path`."""
    cmd = [require_tool("ffprobe"), "-v", "error", "-print_format", "json", *sections, str(path)]
    return subprocess.run(cmd, capture_output=True, text=True)


def probe(path: Path) -> SourceInfo:
    proc = _ffprobe(path, "-show_format", "-show_streams")
    if proc.returncode != 0:
        raise TranscodeError(f"ffprobe cannot read {path.name}: {proc.stderr.strip()[-300:]}")
    data = json.loads(proc.stdout)
    video = next((s for s in data.get("streams", []) if s.get("codec_type") == "video"), None)
    if video is None:
        raise TranscodeError(f"{path.name} has no video stream")
    duration = float(data.get("format", {}).get("duration") or video.get("duration") or 0)
    if duration <= 0:
        raise TranscodeError(f"{path.name}: cannot tell its duration")
    num, _, den = str(video.get("avg_frame_rate") or video.get("r_frame_rate") or "25/1").partition(
        "/"
    )
    fps = float(num) / float(den or 1) if float(den or 1) else 25.0
    languages = tuple(
        str((st.get("tags") or {}).get("language") or "und")
        for st in data.get("streams", [])
        if st.get("codec_type") == "audio"
    )
    return SourceInfo(
        duration, int(video["width"]), int(video["height"]), fps or 25.0, bool(languages), languages
    )


def check_audio(path: Path, what: str) -> None:
    """Refuse a file ffprobe cannot read or that has no audio stream; `what` names the file
    as the user knows it (the path may be a server-side copy)."""
    proc = _ffprobe(path, "-show_streams")
    if proc.returncode != 0:
        reason = proc.stderr.strip()[-300:] or f"exit {proc.returncode}"
        raise TranscodeError(f"{what}: ffprobe cannot read it: {reason}")
    streams = json.loads(proc.stdout).get("streams", [])
    if not any(st.get("codec_type") == "audio" for st in streams):
        kinds = sorted({str(st.get("codec_type")) for st in streams}) or ["nothing"]
        raise TranscodeError(f"{what}: no audio stream in it (ffprobe found {', '.join(kinds)})")
