"""Lab benchmarks: sessions/s per core vs Sabre, RobustMPC decision cost, memory of a big run."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from abr.registry import PROFILES, create
from simulator.compare import LabSetup, run_to_csv
from simulator.run import simulate
from simulator.validation import compare_with_sabre, run_sabre_sets
from simulator.video import load_video
from traces.load import load_trace

ALGORITHMS = (
    "throughput",
    "bba",
    "bola",
    "bolae",
    "dynamic",
    "robustmpc",
    "streamlab",
    "stochasticmpc",
)


def _dev_paths(shared: Path) -> list[Path]:
    anchors = pd.read_csv(shared / "anchors" / "sabre-dev-timing.csv")
    pairs = anchors[["set", "trace"]].drop_duplicates().itertuples(index=False)
    return [shared / "traces" / s / t for s, t in pairs]


def speed(shared: Path, build: str = "") -> str:
    """In-process, one core: sessions/s including trace loading, on every dev set, vs Sabre."""
    video = load_video(shared / "videos" / "bbb.json")
    timing = pd.read_csv(shared / "anchors" / "sabre-dev-timing.csv")
    # Every dev trace, as Sabre's timing file has them, so the two averages weigh sets alike.
    sample = _dev_paths(shared)
    for path in sample:  # warm the page cache, or the first algorithm timed pays the disk
        path.read_bytes()
    lines = [
        "| algorithm | profile | sessions | streamlab sessions/s/core | Sabre sessions/s/core (run_s) | ratio | ms/session |",
        "|---|---|---|---|---|---|---|",
    ]
    for profile_name in ("sabre", "default"):
        profile = PROFILES[profile_name]
        for name in ALGORITHMS:
            start = time.perf_counter()
            for path in sample:
                simulate(load_trace(path), video, create(name, profile), profile.session)
            elapsed = time.perf_counter() - start
            rate = len(sample) / elapsed
            sabre = timing[timing.algorithm == name]
            sabre_rate = len(sabre) / sabre.run_s.sum() if len(sabre) else float("nan")
            ratio = f"{rate / sabre_rate:.1f}x" if len(sabre) else "n/a (not in Sabre)"
            sabre_cell = f"{sabre_rate:.1f}" if len(sabre) else "n/a"
            lines.append(
                f"| {name} | {profile_name} | {len(sample)} | {rate:.0f} | {sabre_cell} | {ratio} | {1000 / rate:.1f} |"
            )
    all_rate = len(timing) / timing.run_s.sum()
    return (
        f"## Lab speed{build} (one process, trace loading included)\n\n"
        f"All {len(sample)} dev traces, bbb (199 segments x 10 renditions). Sabre's figure is "
        f"its in-process per-session time from `anchors/sabre-dev-timing.csv` (all algorithms: "
        f"{all_rate:.1f} sessions/s). Both measured on this class of 2-core machine, not in the same run.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def memory(shared: Path, sessions: int = 10_000) -> str:
    """A 10,000-session compare over all cores: peak RSS of the parent and of any worker."""
    paths = [str(p) for p in _dev_paths(shared)]
    algorithms = ("throughput", "bola", "bolae", "dynamic")
    repeat = -(-sessions // (len(paths) * len(algorithms)))
    trace_paths = (paths * repeat)[: sessions // len(algorithms)]
    setup = LabSetup(str(shared / "videos" / "bbb.json"), algorithms, "default")
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rows = run_to_csv(setup, trace_paths, Path(tmp) / "results.csv", jobs=None)
        elapsed = time.perf_counter() - start
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return (
        "## Memory of a large run\n\n"
        f"`run_to_csv` over {len(rows)} sessions on all cores: {elapsed:.1f} s "
        f"({len(rows) / elapsed:.0f} sessions/s), peak RSS parent {parent:.0f} MiB, largest worker "
        f"{worker:.0f} MiB (target: under 1024 MiB).\n"
    )


def validation(shared: Path) -> str:
    table = compare_with_sabre(run_sabre_sets(shared), shared)
    lines = [
        "| set | algorithm | bitrate ours | bitrate Sabre | diff | rebuffer ours | rebuffer Sabre | ok |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in table.itertuples(index=False):
        ok = "yes" if r.bitrate_ok and r.rebuffer_ok else "NO"
        lines.append(
            f"| {r.trace_set} | {r.abr} | {r.bitrate_kbps_ours:.1f} | {r.bitrate_kbps_sabre:.1f} | "
            f"{r.bitrate_diff:+.2%} | {r.rebuffer_ratio_ours:.3%} | {r.rebuffer_ratio_sabre:.3%} | {ok} |"
        )
    return (
        "## Validation against Sabre (`--profile sabre`, Sabre's no-abandon run)\n\n"
        "Tolerance: mean bitrate within 5 %, mean rebuffer ratio within 10 % relative or 0.3 pp.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def mpc_decision_cost(
    shared: Path, traces_per_set: int = 10, build: str = "", profile_name: str = "default"
) -> str:
    """ms per session of each MPC, and its decision cost (less `throughput`'s) against RobustMPC's.

    Issue 18's goals: `streamlab`'s decisions cost at most 2x RobustMPC's, and it runs at
    least 50 sessions/s per core interpreted. Best of 3, every algorithm in the same sitting."""
    video = load_video(shared / "videos" / "bbb.json")
    profile = PROFILES[profile_name]
    baseline = "throughput"
    mpcs = ("robustmpc", "streamlab", "stochasticmpc")
    by_set: dict[str, list[Path]] = {}
    for p in _dev_paths(shared):
        by_set.setdefault(p.parent.name, []).append(p)
    sets = sorted(by_set)
    traces = {name: [load_trace(p) for p in by_set[name][:traces_per_set]] for name in sets}
    ms: dict[tuple[str, str], float] = {}
    for algorithm in (baseline, *mpcs):
        for name in sets:
            best = float("inf")
            for _ in range(3):
                start = time.perf_counter()
                for trace in traces[name]:
                    simulate(trace, video, create(algorithm, profile), profile.session)
                best = min(best, time.perf_counter() - start)
            ms[name, algorithm] = best / len(traces[name]) * 1000
    lines = [
        "| set | " + " | ".join(f"{m} ms/session" for m in (baseline, *mpcs)) + " |",
        "|---" * (len(mpcs) + 2) + "|",
    ]
    for name in sets:
        cells = " | ".join(f"{ms[name, m]:.1f}" for m in (baseline, *mpcs))
        lines.append(f"| {name} | {cells} |")
    total = {m: sum(ms[name, m] for name in sets) / len(sets) for m in (baseline, *mpcs)}
    cost = {m: total[m] - total[baseline] for m in mpcs}
    ratios = ", ".join(f"{m} {cost[m] / cost['robustmpc']:.2f}x" for m in mpcs[1:])
    return (
        f"## MPC decision cost{build}, `{profile_name}` profile (bbb, 10 renditions; "
        f"{traces_per_set} traces per set, best of 3)\n\n"
        + "\n".join(lines)
        + f"\n\nDecision cost (ms/session less {baseline}'s, mean of sets) against RobustMPC's: "
        f"{ratios} (goal: streamlab at most 2x); streamlab "
        f"{1000 / total['streamlab']:.0f} sessions/s (goal: 50 per core, interpreted).\n"
    )


def _interpreted(call: str) -> str:
    """`bench.lab.<call>` run on the pure-Python source: a copy of the tree without compiled
    modules, in a fresh interpreter."""
    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        for package in ("abr", "simulator", "traces", "bench", "streamlab"):
            shutil.copytree(
                root / package, Path(tmp) / package, ignore=shutil.ignore_patterns("*.so")
            )
        code = f"from pathlib import Path; from bench import lab; print(lab.{call})"
        done = subprocess.run(
            [sys.executable, "-c", code],
            cwd=tmp,
            env={**os.environ, "PYTHONPATH": tmp},
            capture_output=True,
            text=True,
            check=True,
        )
    return done.stdout


def speed_interpreted(shared: Path) -> str:
    """The lab speed benchmark on the pure-Python source."""
    return _interpreted(f"speed(Path({str(shared)!r}), build=' (interpreted)')")


def mpc_decision_cost_interpreted(shared: Path, profile_name: str = "default") -> str:
    """The MPC decision cost on the pure-Python source (issue 18's sessions/s goal)."""
    return _interpreted(
        f"mpc_decision_cost(Path({str(shared)!r}), build=' (interpreted)', "
        f"profile_name={profile_name!r})"
    )


def sweep_speed(shared: Path) -> str:
    """Dask LocalCluster on all cores vs the in-process runner, on the same grid."""
    from distributed import Client, LocalCluster

    from simulator.sweep import PartWriter, SweepPlan, in_process, on_dask

    paths = [str(p) for p in _dev_paths(shared)]
    plan = SweepPlan((str(shared / "videos" / "bbb.json"),), ("bola", "throughput"), {})
    tasks = plan.tasks(paths, chunk=16)
    sessions = sum(len(t.trace_paths) for t in tasks)
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        writer = PartWriter(Path(tmp) / "in-process")
        for rows in in_process(tasks):
            writer.write(rows)
        local = time.perf_counter() - start
        with (
            LocalCluster(
                n_workers=os.cpu_count() or 1, threads_per_worker=1, dashboard_address=":0"
            ) as cluster,
            Client(cluster) as client,
        ):
            start = time.perf_counter()
            writer = PartWriter(Path(tmp) / "dask")
            for rows in on_dask(client, tasks):
                writer.write(rows)
            distributed = time.perf_counter() - start
    return (
        "## Sweep on Dask vs in-process\n\n"
        f"{sessions} sessions (all dev traces x bola, throughput), Parquet parts per task.\n\n"
        "| runner | seconds | sessions/s | ratio |\n|---|---|---|---|\n"
        f"| in-process, 1 core | {local:.1f} | {sessions / local:.0f} | 1.0x |\n"
        f"| Dask LocalCluster, {os.cpu_count()} workers | {distributed:.1f} | "
        f"{sessions / distributed:.0f} | {local / distributed:.2f}x |\n"
    )


def optimum_cost(shared: Path, per_set: int = 5) -> str:
    """Time of the offline-optimum DP per trace, and its distance to the anchors' optimum."""
    from simulator.optimal import optimal_qoe_lin

    video = load_video(shared / "videos" / "bbb.json")
    anchors = pd.read_csv(shared / "anchors" / "optimum-dev.csv")
    lines = ["| set | traces | s/trace | mean abs diff vs anchors |", "|---|---|---|---|"]
    for name, group in anchors.groupby("set"):
        sample = group.head(per_set)
        diffs, start = [], time.perf_counter()
        for row in sample.itertuples():
            ours = optimal_qoe_lin(
                load_trace(shared / "traces" / str(name) / row.trace), video, 25.0
            )
            diffs.append(abs(ours.qoe_lin - row.q0low_qoe_lin))
        elapsed = (time.perf_counter() - start) / len(sample)
        lines.append(f"| {name} | {len(sample)} | {elapsed:.2f} | {sum(diffs) / len(diffs):.4f} |")
    return (
        "## Offline optimum (1 s grid) vs the anchors' independent DP (250 ms grid)\n\n"
        + "\n".join(lines)
        + "\n"
    )
