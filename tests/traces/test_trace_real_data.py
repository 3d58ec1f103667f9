"""Every development trace in ../shared/traces loads, with the detected format and a plausible rate.

Skipped when ../shared (beside the repository) is absent.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from traces.load import detect_format, iter_trace_files, load_trace, load_traces
from traces.stats import trace_set_stats

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
TRACES = SHARED / "traces"

pytestmark = [
    pytest.mark.shared,
    pytest.mark.skipif(not SHARED.is_dir(), reason=f"{SHARED} is absent"),
]

# folder: (format, count, plausible range of the set's time-weighted mean in kbps)
KNOWN_SETS = {
    "sabre-3g": ("sabre", 43, (300, 3_000)),  # HSDPA
    "sabre-4g": ("sabre", 20, (10_000, 60_000)),  # LTE
    "sabre-sd-fs": ("sabre", 200, (2_000, 15_000)),
    "sabre-hd-fs": ("sabre", 200, (5_000, 40_000)),
    "pensieve-fcc": ("pensieve", 85, (300, 10_000)),
    "pensieve-norway": ("pensieve", 115, (300, 5_000)),
    "mahimahi": ("mahimahi", 2, (500, 50_000)),  # cellular downlink
}


@pytest.mark.parametrize("folder", sorted(KNOWN_SETS))
def test_known_set_loads_with_its_format(folder: str) -> None:
    kind, count, (low, high) = KNOWN_SETS[folder]
    files = iter_trace_files([TRACES / folder])
    assert len(files) == count
    for path in files:
        assert detect_format(path.read_text(), str(path)) == kind, path
    traces = [load_trace(p) for p in files]
    assert {t.set_name for t in traces} == {folder}
    row = trace_set_stats(traces).iloc[0]
    assert low < row["bw_mean_kbps"] < high
    assert row["bw_p10_kbps"] <= row["bw_mean_kbps"] <= row["bw_p90_kbps"]


def test_every_folder_loads_with_plausible_traces() -> None:
    """Folders added later too: each file loads and looks like a network link."""
    folders = sorted(p for p in TRACES.iterdir() if p.is_dir())
    assert {f.name for f in folders} >= set(KNOWN_SETS)
    for trace in load_traces(folders):
        assert 10 < trace.total_duration_s < 100_000, trace.path
        assert 10 < trace.mean_bandwidth_kbps < 1_000_000, trace.path


def test_the_fixed_broadband_sets_load_quickly() -> None:
    folders = [TRACES / "sabre-sd-fs", TRACES / "sabre-hd-fs"]
    start = time.perf_counter()
    traces = load_traces(folders)
    elapsed = time.perf_counter() - start
    assert len(traces) == 400
    assert elapsed < 3.0, f"400 files took {elapsed:.2f} s"
