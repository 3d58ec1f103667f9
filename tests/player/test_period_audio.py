"""A two-Period DASH title with separate audio, as real services package ad breaks: each part
a Shaka Packager run with its own video and audio stream, the break stamped 50 s on. Played
through the real engine and libmpv over nginx on 127.0.0.1, the audio goes on after the
boundary, in sync with the picture (the audio follower used to send the first Period's
timestamps through unmoved, so the break's audio sat 44 s away from its video)."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from shaka_packager import packager
from static_site import static_site

from abr.config import SessionConfig
from abr.registry import create
from player.engine import PlaybackEngine, PlaybackResult

# (name, video source, tone in Hz, seconds, timestamp offset)
PARTS = (
    ("show", "testsrc2=size=320x180:rate=24", 440, 6, 0),
    ("break", "smptebars=size=320x180:rate=24", 880, 4, 50),
)
TOTAL_S = sum(part[3] for part in PARTS)
BOUNDARY_S = PARTS[0][3]


def _part(root: Path, name: str, video: str, tone: int, seconds: int, offset: int) -> str:
    """One part encoded and packaged on its own; its Period's XML."""
    args = ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", f"{video}:duration={seconds}"]
    args += ["-f", "lavfi", "-i", f"sine=frequency={tone}:sample_rate=48000:duration={seconds}"]
    args += ["-c:v", "libx264", "-preset", "ultrafast", "-g", "48", "-sc_threshold", "0"]
    args += ["-b:v", "300k", "-c:a", "aac", "-b:a", "64k", "-output_ts_offset", str(offset)]
    subprocess.run([*args, f"{name}.mp4"], cwd=root, check=True, timeout=120)
    streams = [
        f"in={name}.mp4,stream={kind},init_segment={name}/{kind}/init.m4s,"
        f"segment_template={name}/{kind}/seg-$Number$.m4s"
        for kind in ("video", "audio")
    ]
    command = [str(packager()), *streams, "--segment_duration", "2"]
    command += ["--generate_static_live_mpd", "--mpd_output", f"{name}.mpd"]
    subprocess.run(command, cwd=root, check=True, timeout=60, capture_output=True)
    text = (root / f"{name}.mpd").read_text()
    period = text[text.index("<Period") : text.index("</Period>") + len("</Period>")]
    return period.replace('<Period id="0"', f'<Period id="{name}" duration="PT{seconds}S"')


@pytest.fixture(scope="module")
def title(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The joined title's MPD URL, served by nginx."""
    if shutil.which("ffmpeg") is None:
        pytest.skip("ffmpeg is not installed (make test installs it)")
    root = tmp_path_factory.mktemp("period-audio")
    media = root / "media"
    media.mkdir()
    periods = [_part(media, *part) for part in PARTS]
    head = (media / "show.mpd").read_text()
    head = re.sub(
        r'mediaPresentationDuration="[^"]*"',
        f'mediaPresentationDuration="PT{TOTAL_S}S"',
        head[: head.index("<Period")],
    )
    (media / "periods.mpd").write_text(head + "".join(periods) + "</MPD>\n")
    with static_site(media, root / "nginx") as base:
        yield f"{base}/periods.mpd"


def test_audio_plays_on_in_sync_after_the_period_boundary(title: str) -> None:
    pytest.importorskip("mpv", reason="python-mpv needs libmpv (make test installs libmpv2)")
    from player.mpv_sink import MpvSink

    sink = MpvSink()
    # mpv's clocks as its event thread reports them: (time-pos, the latest audio-pts), and the
    # A/V difference it measured at each frame (`avsync`).
    clocks: list[tuple[float, float]] = []
    avsync: list[tuple[float, float]] = []
    latest: dict[str, float] = {}

    def on_change(name: str, value: float | None) -> None:
        if value is None:
            return
        latest[name] = float(value)
        if name == "time-pos" and "audio-pts" in latest:
            clocks.append((latest["time-pos"], latest["audio-pts"]))
        if name == "avsync" and "time-pos" in latest:
            avsync.append((latest["time-pos"], latest["avsync"]))

    for name in ("audio-pts", "avsync", "time-pos"):
        sink.player.observe_property(name, on_change)

    async def go() -> PlaybackResult:
        async with httpx.AsyncClient(timeout=5.0) as client:
            engine = PlaybackEngine(
                title, create("throughput"), sink, client, SessionConfig(), audio_sink=sink
            )
            return await engine.run(stop_after_s=60.0)

    try:
        result = asyncio.run(go())
        assert sink.wait_until_played(timeout_s=30.0)
    finally:
        sink.close()
    assert result.failure is None
    assert result.summary.played_s == pytest.approx(TOTAL_S, abs=0.1)
    after = [(video, audio) for video, audio in clocks if video > BOUNDARY_S + 0.3]
    # Audio is heard through the break, up to its last second, on the picture's clock (the two
    # properties arrive one by one, so a pair may be a frame or two apart on a busy machine).
    assert after and max(audio for _, audio in after) > TOTAL_S - 1.0, clocks[-5:]
    assert max(abs(audio - video) for video, audio in after) < 0.5, after[:5]
    synced = [abs(d) for video, d in avsync if video > BOUNDARY_S + 0.3]
    assert synced and max(synced) < 0.1, synced
