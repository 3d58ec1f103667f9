"""The live encoder: one ffmpeg process per run of a channel, reading its source in real time
(a file looped for ever, or the test pattern with the wall clock burnt in, so latency is
visible on screen) and writing a small GOP-aligned CMAF ladder plus AAC audio with the dash
muxer into the run's own directory. ffmpeg's manifests there are read, not served: see
`channel.py` for why the published ones are ours."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from backend_stub.config import LIVE_ID_PREFIX
from backend_stub.errors import ConfigError
from backend_stub.media.ffmpeg import die_with_parent, probe, require_tool
from backend_stub.media.ladder import DEFAULT_LADDER, Rung

# Small and fast: the encoders share the machine with the origin and the VOD workers.
LIVE_LADDER: tuple[Rung, ...] = DEFAULT_LADDER[:3]  # 240p, 360p, 480p
LIVE_AUDIO_KBPS = 96
TEST_SOURCE_FPS = 25
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,23}")
# %{localtime} with its ':' escaped for drawtext inside a filtergraph.
_CLOCK = r"%{localtime\:%H\\\:%M\\\:%S}"


@dataclass(frozen=True)
class ChannelSpec:
    name: str
    source: Path | None = None  # None: the test pattern with a clock

    @property
    def video_id(self) -> str:
        return f"{LIVE_ID_PREFIX}{self.name}"

    @classmethod
    def parse(cls, text: str) -> ChannelSpec:
        """`NAME` or `NAME=SOURCE`, as `serve --live-channel` takes it."""
        name, sep, source = text.partition("=")
        name = name.strip()
        if _NAME.fullmatch(name) is None:
            raise ConfigError(
                f"--live-channel {text!r}: name {name!r} must be 1-24 of a-z, 0-9 and '-', "
                "starting with a letter or digit"
            )
        if not sep:
            return cls(name)
        path = Path(source).expanduser()
        if not path.is_file():
            raise ConfigError(f"--live-channel {text!r}: source {source!r} is not a file")
        return cls(name, path.resolve())


def _inputs(spec: ChannelSpec) -> tuple[list[str], str, float, str]:
    """ffmpeg's input arguments, the filtergraph's head (ending in [src]), the frame rate
    and the audio stream to map."""
    if spec.source is None:
        video = f"testsrc2=size=854x480:rate={TEST_SOURCE_FPS}"
        args = [
            "-re",
            "-f",
            "lavfi",
            "-i",
            video,
            "-re",
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
        ]
        clock = (
            f"[0:v]drawtext=text='{_CLOCK}':fontsize=48:fontcolor=white:box=1:"
            # Top right, under the player's LIVE badge: the seek bar and the stats overlay
            # (top left) cover the bottom and the left while the controls are shown.
            "boxcolor=black@0.6:x=w-tw-24:y=h/8[src]"
        )
        return args, clock + ";", TEST_SOURCE_FPS, "1:a:0"
    info = probe(spec.source)
    args = ["-re", "-stream_loop", "-1", "-i", str(spec.source)]
    if info.has_audio:
        return args, "[0:v]null[src];", info.fps, "0:a:0"
    # A silent source gets a tone, so every channel has the same tracks.
    args += ["-re", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"]
    return args, "[0:v]null[src];", info.fps, "1:a:0"


def encoder_command(spec: ChannelSpec, run_dir: Path, segment_seconds: int) -> list[str]:
    inputs, graph, fps, audio = _inputs(spec)
    n = len(LIVE_LADDER)
    split = f"[src]split={n}" + "".join(f"[s{i}]" for i in range(n))
    scales = ";".join(f"[s{i}]scale=-2:{r.height}[v{i}]" for i, r in enumerate(LIVE_LADDER))
    gop = str(max(1, round(fps * segment_seconds)))
    cmd = [require_tool("ffmpeg"), "-v", "error", "-nostdin", *inputs]
    cmd += ["-filter_complex", f"{graph}{split};{scales}"]
    for i in range(n):
        cmd += ["-map", f"[v{i}]"]
    cmd += ["-map", audio]
    cmd += [
        "-c:v", "libx264", "-preset", "ultrafast", "-profile:v", "high", "-pix_fmt", "yuv420p",
        # Keyframes exactly on segment boundaries in every rung, as for VOD.
        "-force_key_frames", f"expr:gte(t,n_forced*{segment_seconds})",
        "-sc_threshold", "0", "-g", gop, "-keyint_min", gop,
        "-x264-params", "repeat-headers=1",
    ]  # fmt: skip
    for i, r in enumerate(LIVE_LADDER):
        cmd += [f"-b:v:{i}", f"{r.bitrate_kbps}k", f"-maxrate:v:{i}", f"{r.maxrate_kbps}k"]
        cmd += [f"-bufsize:v:{i}", f"{r.bitrate_kbps * 2}k"]
    cmd += ["-c:a", "aac", "-b:a", f"{LIVE_AUDIO_KBPS}k", "-ac", "2", "-ar", "48000"]
    cmd += [
        "-f", "dash", "-seg_duration", str(segment_seconds),
        "-use_template", "1", "-use_timeline", "1",
        "-hls_playlist", "1", "-hls_master_name", "master.m3u8",
        # ffmpeg keeps only a few segments of its own; the publisher links each one out as
        # soon as ffmpeg's MPD lists it, so they outlive ffmpeg's clean-up.
        "-window_size", "6", "-extra_window_size", "2",
        "-init_seg_name", "r$RepresentationID$/init.m4s",
        "-media_seg_name", "r$RepresentationID$/seg-$Number%05d$.m4s",
        "-adaptation_sets", f"id=0,streams=v id=1,streams={n}",
        str(run_dir / "manifest.mpd"),
    ]  # fmt: skip
    return cmd


def start_encoder(
    spec: ChannelSpec, run_dir: Path, segment_seconds: int
) -> subprocess.Popen[bytes]:
    run_dir.mkdir(parents=True, exist_ok=True)
    for i in range(len(LIVE_LADDER) + 1):
        (run_dir / f"r{i}").mkdir(exist_ok=True)  # the dash muxer does not create them
    log = (run_dir.parent / "ffmpeg.log").open("ab")
    try:
        return subprocess.Popen(
            encoder_command(spec, run_dir, segment_seconds),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            # Dies with serve even if serve is SIGKILLed: no orphan encoder.
            preexec_fn=die_with_parent,
        )
    finally:
        log.close()
