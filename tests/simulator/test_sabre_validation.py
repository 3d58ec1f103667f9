"""Our bola, bolae, dynamic and throughput reproduce Sabre's per-set results (../shared)."""

from __future__ import annotations

from pathlib import Path

from simulator.validation import VALIDATED, compare_with_sabre, run_sabre_sets


def test_per_set_means_match_sabre_within_tolerance(shared_dir: Path) -> None:
    table = compare_with_sabre(run_sabre_sets(shared_dir, jobs=2), shared_dir)
    assert set(table.abr) == set(VALIDATED)
    assert len(table) == 4 * len(VALIDATED)  # 3G, 4G and both synthetic broadband sets
    failures = table[~(table.bitrate_ok & table.rebuffer_ok)]
    assert failures.empty, failures.to_string()
