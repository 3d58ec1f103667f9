"""What the interop tests share: a tiny ladder for other tools' packagers to cut, and headless
playback by our engine with libmpv decoding, watched as it goes.

The ladder is two rungs (180p at 150 kbit/s, 360p at 500 kbit/s), 2 s GOPs. The engine starts
at the lowest rung and the loopback link allows the higher one, so a run that works switches up.
Live plays with the player's default algorithm (`streamlab`), as a viewer's player would; the
10 s VOD clips with `throughput`, as `streamlab`'s planner rightly finds no switch worth its cost
on five segments, which would leave the switch untested.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from dataclasses import dataclass, field

import httpx
import pytest

from abr.registry import PROFILES, resolve
from player.engine import PlaybackEngine, PlaybackResult

LADDER = ((180, "150k"), (360, "500k"))
FPS = 24
SEGMENT_S = 2
SOURCE_SIZE = "640x360"
X264 = ["-c:v", "libx264", "-preset", "ultrafast", "-g", str(FPS * SEGMENT_S)]
X264 += ["-keyint_min", str(FPS * SEGMENT_S), "-sc_threshold", "0"]
X264 += ["-x264-params", "repeat-headers=1"]  # parameter sets in every keyframe
SAMPLE_EVERY_S = 0.25


def pattern_input(seconds: float | None = None, realtime: bool = False) -> list[str]:
    """ffmpeg's input: the test pattern, endless unless `seconds`, at real time if asked."""
    pattern = f"testsrc2=size={SOURCE_SIZE}:rate={FPS}"
    if seconds is not None:
        pattern += f":duration={seconds:g}"
    return [*(["-re"] if realtime else []), "-f", "lavfi", "-i", pattern]


def ladder_args() -> list[str]:
    """Both rungs as video streams 0 and 1 of one output (ffmpeg's own muxers)."""
    split = "".join(f"[s{i}]" for i in range(len(LADDER)))
    scales = ";".join(f"[s{i}]scale=-2:{h}[v{i}]" for i, (h, _) in enumerate(LADDER))
    args = ["-filter_complex", f"[0:v]split={len(LADDER)}{split};{scales}"]
    for i, (_, rate) in enumerate(LADDER):
        args += ["-map", f"[v{i}]", f"-b:v:{i}", rate]
    return args + X264


@dataclass
class Played:
    """One headless run: the engine's result and what was seen while it played."""

    url: str
    result: PlaybackResult
    wall_s: float
    target_latency_s: float | None
    # (session time, latency) every SAMPLE_EVERY_S once the session knows one.
    latency: list[tuple[float, float]] = field(default_factory=list)
    # (session time, libmpv's time-pos): decoding, not just downloading.
    decoded: list[tuple[float, float]] = field(default_factory=list)
    failures: list[tuple[float, str]] = field(default_factory=list)

    @property
    def renditions(self) -> list[int]:
        """The rendition of each buffered segment, in playback order."""
        return [q for _, q in self.result.metrics.buffered]

    @property
    def decoded_s(self) -> float:
        """How far libmpv's clock moved while playing."""
        times = [t for _, t in self.decoded]
        return max(times) - min(times) if times else 0.0

    def mean_latency_after(self, skip_s: float) -> float:
        later = [v for t, v in self.latency if t >= skip_s]
        assert later, f"{self.url}: no latency sample after {skip_s} s"
        return sum(later) / len(later)

    def describe(self) -> str:
        return (
            f"{self.url}: failure={self.result.failure!r} renditions={self.renditions} "
            f"summary={self.result.summary.as_dict()} requests failed={self.failures[:5]}"
        )


async def play_headless(
    url: str, seconds: float | None, target_latency_s: float | None = None, abr: str = "streamlab"
) -> Played:
    """Play `url` with the player's engine and libmpv (no window) for `seconds` (None: to the
    end), as `streamlab play --headless` does, with the default algorithm and a live target
    latency."""
    mpv_sink = pytest.importorskip(
        "player.mpv_sink", reason="python-mpv needs libmpv (make test installs libmpv2)"
    )
    profile = PROFILES["default"]
    config = dataclasses.replace(profile.session, live_target_latency_s=target_latency_s)
    sink = mpv_sink.MpvSink()
    started = time.monotonic()
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0)) as client:
            engine = PlaybackEngine(url, resolve(abr, profile)(), sink, client, config)
            run = asyncio.create_task(engine.run(stop_after_s=seconds))
            samples: list[tuple[float, float]] = []
            positions: list[tuple[float, float]] = []
            while not run.done():
                await asyncio.wait({run}, timeout=SAMPLE_EVERY_S)
                latency = engine.session.live_latency_s
                if latency is not None:
                    samples.append((engine.now(), latency))
                if sink.position_s is not None:
                    positions.append((engine.now(), sink.position_s))
            result = run.result()
        if seconds is None:  # to the end: let libmpv play out what it was given
            sink.wait_until_played(timeout_s=30.0)
            if sink.position_s is not None:
                positions.append((engine.now(), sink.position_s))
    finally:
        sink.close()
    return Played(
        url,
        result,
        time.monotonic() - started,
        target_latency_s,
        samples,
        positions,
        engine.failures,
    )
