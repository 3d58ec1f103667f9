"""Synthetic generators are seeded and shaped as named; every dev trace in ../shared loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np

from traces import synthetic
from traces.load import iter_trace_files, load_trace
from traces.stats import trace_set_stats

ROOT = Path(__file__).resolve().parents[2]


def test_markov_is_determined_by_its_seed() -> None:
    a = synthetic.markov(6000, 500, 0.1, 0.3, seed=4)
    assert a == synthetic.markov(6000, 500, 0.1, 0.3, seed=4)
    assert a != synthetic.markov(6000, 500, 0.1, 0.3, seed=5)
    assert a.bandwidth_kbps.min() < 1500 < 3000 < a.bandwidth_kbps.max()  # both states occur


def test_the_tunnel_drops_to_one_megabit_for_twenty_seconds() -> None:
    tunnel = synthetic.tunnel()
    starts = np.concatenate(([0.0], np.cumsum(tunnel.durations_s)[:-1]))
    low = tunnel.bandwidth_kbps == 1000
    assert tunnel.durations_s[low].sum() == 20
    assert starts[low][0] == 60 and set(tunnel.bandwidth_kbps[~low]) == {50_000}


def test_builtin_set_has_distinct_names() -> None:
    names = [t.name for t in synthetic.builtin_set()]
    assert len(names) == len(set(names)) >= 6


def test_every_dev_trace_loads(shared_dir: Path) -> None:
    folders = sorted(p for p in (shared_dir / "traces").iterdir() if p.is_dir())
    assert {f.name for f in folders} >= {"sabre-3g", "sabre-4g", "pensieve-fcc", "mahimahi"}
    loaded = [load_trace(p) for p in iter_trace_files(folders)]
    stats = trace_set_stats(loaded).set_index("set")
    assert stats.loc["sabre-4g", "count"] == 20
    assert 10_000 < stats.loc["sabre-4g", "bw_mean_kbps"] < 60_000  # LTE
    assert 200 < stats.loc["pensieve-norway", "bw_mean_kbps"] < 5_000  # HSDPA
    assert 1_000 < stats.loc["mahimahi", "bw_mean_kbps"] < 50_000  # cellular downlink
    assert all(t.total_duration_s > 10 for t in loaded)


def test_stats_command_prints_a_row_per_set_and_rejects_bad_files(tmp_path: Path) -> None:
    for name, trace in (("a", synthetic.constant(1000)), ("b", synthetic.tunnel())):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "t.csv").write_text(f"duration_s,bandwidth_kbps\n{trace.total_duration_s},800\n")
    run = [sys.executable, "-m", "streamlab.cli", "traces", "stats"]
    done = subprocess.run(
        [*run, str(tmp_path / "a"), str(tmp_path / "b")], capture_output=True, text=True, cwd=ROOT
    )
    assert done.returncode == 0, done.stderr
    assert "│ a " in done.stdout and "│ b " in done.stdout
    bad = tmp_path / "bad.csv"
    bad.write_text("duration_s,bandwidth_kbps\n1,-3\n")
    done = subprocess.run([*run, str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 2
    assert done.stderr.strip().count("\n") == 0 and "bad.csv:2" in done.stderr
