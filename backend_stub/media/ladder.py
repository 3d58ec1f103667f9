"""The bitrate ladder: default rungs, picking rungs for a source, per-title complexity scaling."""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from backend_stub.media.ffmpeg import ffmpeg_prefix, require_tool, run


@dataclass(frozen=True)
class Rung:
    height: int
    bitrate_kbps: int

    @property
    def maxrate_kbps(self) -> int:
        return int(self.bitrate_kbps * 1.5)


# 240p..1080p for every title; 1440p/2160p only when the source has that many lines.
DEFAULT_LADDER: tuple[Rung, ...] = (
    Rung(240, 400),
    Rung(360, 800),
    Rung(480, 1400),
    Rung(720, 2800),
    Rung(1080, 5000),
    Rung(1440, 9000),
    Rung(2160, 16000),
)
AUDIO_KBPS = 128

# Bits a 360p probe encode of "typical" content takes (CRF 23, ultrafast). Measured on the
# demo sources: colour bars 13 kbps, moving test pattern 1670, Game of Life 4900; so the
# ladder scale is a damped power of the ratio, (rate / reference) ** 0.35, clamped to
# 0.5..1.6 by select_ladder: static content gets half the bits, busy content 1.6x.
REFERENCE_PROBE_KBPS = 700.0
COMPLEXITY_EXPONENT = 0.35
PROBE_SECONDS = 6.0


def select_ladder(source_height: int, max_height: int, complexity: float = 1.0) -> list[Rung]:
    """Rungs no taller than the source (never upscale) or max_height; always at least the
    lowest rung so a tiny source still plays."""
    limit = min(source_height, max_height)
    rungs = [r for r in DEFAULT_LADDER if r.height <= limit] or [DEFAULT_LADDER[0]]
    factor = min(max(complexity, 0.5), 1.6)
    return [Rung(r.height, max(100, round(r.bitrate_kbps * factor / 10) * 10)) for r in rungs]


def probe_complexity(source: Path, duration: float) -> float:
    """Encode a few seconds from the middle at constant quality; harder content needs more
    bits for the same quality, so the rate ratio scales the whole ladder."""
    start = max(0.0, duration / 2 - PROBE_SECONDS / 2)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "probe.mp4"
        run(
            [
                *ffmpeg_prefix(),
                "-ss",
                f"{start:.2f}",
                "-i",
                str(source),
                "-t",
                str(PROBE_SECONDS),
                "-an",
                "-vf",
                "scale=-2:360",
                "-c:v",
                "libx264",
                "-preset",
                "ultrafast",
                "-crf",
                "23",
                str(out),
            ],
            "complexity probe",
        )
        size_bits = out.stat().st_size * 8
        proc = subprocess.run(
            [
                require_tool("ffprobe"),
                "-v",
                "error",
                "-show_entries",
                "format=duration",
                "-of",
                "csv=p=0",
                str(out),
            ],
            capture_output=True,
            text=True,
        )
        seconds = float(proc.stdout.strip() or PROBE_SECONDS)
    kbps = size_bits / max(seconds, 0.1) / 1000
    return float((max(kbps, 1.0) / REFERENCE_PROBE_KBPS) ** COMPLEXITY_EXPONENT)
