"""Sabre-style video JSON: the dev data set, small inline examples, and what is refused."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from abr.manifests import ManifestError, parse_sabre_video

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
BBB = SHARED / "videos" / "bbb.json"


@pytest.mark.shared
@pytest.mark.skipif(
    not BBB.is_file(), reason=f"{BBB} is absent (the dev data lives beside the repo)"
)
def test_big_buck_bunny() -> None:
    data = json.loads(BBB.read_text())
    p = parse_sabre_video(data, source=str(BBB))
    assert len(p.renditions) == 10 and p.segment_count == 199
    assert p.segment_durations_s == (3.0,) * 199
    assert [r.id for r in p.renditions] == [f"q{i}" for i in range(10)]
    assert [r.bandwidth_bps for r in p.renditions] == [k * 1000 for k in data["bitrates_kbps"]]
    assert p.size_table_bits() == [[float(s) for s in row] for row in data["segment_sizes_bits"]]
    for r in p.renditions:
        assert all(s.url is None and not s.size_is_estimate for s in r.segments)
    assert p.source == str(BBB)


def test_a_small_video() -> None:
    p = parse_sabre_video(
        {
            "segment_duration_ms": 4000,
            "bitrates_kbps": [300, 750.5],
            "segment_sizes_bits": [[1_200_000, 3_000_000], [1_100_000, 2_900_000.5]],
        },
        source="tiny.json",
    )
    assert p.bitrates_kbps == (300.0, 750.5)
    assert [r.bandwidth_bps for r in p.renditions] == [300_000, 750_500]
    assert p.duration_s == 8.0
    assert p.renditions[1].segments[1].size_bits == 2_900_000.5


GOOD: dict[str, object] = {
    "segment_duration_ms": 4000,
    "bitrates_kbps": [300, 900],
    "segment_sizes_bits": [[1, 2], [3, 4]],
}


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"segment_duration_ms": None}, "missing key 'segment_duration_ms'"),
        ({"segment_sizes_bits": None}, "missing key 'segment_sizes_bits'"),
        ({"segment_duration_ms": 0}, "segment_duration_ms must be a number from"),
        ({"segment_duration_ms": "4000"}, "segment_duration_ms must be a number from"),
        ({"segment_duration_ms": math.inf}, "segment_duration_ms must be a number from"),
        ({"bitrates_kbps": []}, "bitrates_kbps must be a non-empty list"),
        ({"bitrates_kbps": "300,900"}, "bitrates_kbps must be a non-empty list"),
        ({"bitrates_kbps": [900, 300]}, "ascending"),
        ({"bitrates_kbps": [300, True]}, r"bitrates_kbps\[1\] must be a number from"),
        ({"segment_sizes_bits": []}, "non-empty list of rows"),
        ({"segment_sizes_bits": [[1, 2], [3]]}, "segment 1: expected 2 sizes .* got 1 values"),
        ({"segment_sizes_bits": [[1, 2], 7]}, "segment 1: expected 2 sizes .* got int"),
        ({"segment_sizes_bits": [[1, 2], [3, -4]]}, "segment 1, rendition q1: size must be"),
        ({"segment_sizes_bits": [[math.nan, 2]]}, "segment 0, rendition q0: size must be"),
        ({"segment_sizes_bits": [[1, "2"]]}, "segment 0, rendition q1: size must be"),
        # Numbers no float holds, or that would overflow once multiplied (kbps x 1000).
        ({"segment_sizes_bits": [[1, 10**400]]}, "rendition q1: size .* an integer of 401 digits"),
        ({"segment_sizes_bits": [[10**5000, 2]]}, "rendition q0: size .* an integer of 5001"),
        ({"bitrates_kbps": [300, 1e308]}, r"bitrates_kbps\[1\] .* to 1e\+09, not 1e\+308"),
        ({"segment_duration_ms": 1e300}, "segment_duration_ms .* from 1 to 8.64e\\+07"),
        ({"segment_duration_ms": 1e-300}, "segment_duration_ms .* from 1 to"),
        ({"bitrates_kbps": [1e-300, 900]}, r"bitrates_kbps\[0\] must be a number from 0.001"),
        ({"segment_sizes_bits": [[1, 2]] * 200_001}, "200001 segments: more than the 200000"),
    ],
)
def test_bad_videos_are_refused_with_the_reason(change: dict[str, object], reason: str) -> None:
    data = {**GOOD, **change}
    data = {k: v for k, v in data.items() if v is not None}
    with pytest.raises(ManifestError, match=reason) as info:
        parse_sabre_video(data, source="video.json")
    assert str(info.value).startswith("video.json: ")


def test_not_an_object() -> None:
    with pytest.raises(ManifestError, match="expected a JSON object, got list"):
        parse_sabre_video([1, 2], source="video.json")  # type: ignore[arg-type]
