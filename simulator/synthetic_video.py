"""A synthetic VBR video description (Sabre JSON layout), for demos and tests without ../shared.

Segment sizes vary around bitrate x duration with a seeded scene-complexity factor shared by
all renditions (as real encodes do: a complex scene is big at every rung).
"""

from __future__ import annotations

from typing import Any

import numpy as np

DEFAULT_LADDER_KBPS = (235, 375, 560, 750, 1050, 1750, 2350, 3000, 4300, 5800)


def synthetic_video(
    bitrates_kbps: tuple[int, ...] = DEFAULT_LADDER_KBPS,
    segments: int = 150,
    segment_duration_s: float = 4.0,
    variability: float = 0.25,
    seed: int = 0,
) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    # Scene complexity drifts slowly (AR(1)), so neighbouring segments are alike.
    complexity = np.empty(segments)
    level = 0.0
    for i in range(segments):
        level = 0.8 * level + rng.normal(0.0, variability)
        complexity[i] = level
    factors = np.exp(complexity - complexity.mean())
    sizes = [
        [round(kbps * 1000 * segment_duration_s * float(f)) for kbps in bitrates_kbps]
        for f in factors
    ]
    return {
        "segment_duration_ms": round(segment_duration_s * 1000),
        "bitrates_kbps": list(bitrates_kbps),
        "segment_sizes_bits": sizes,
    }
