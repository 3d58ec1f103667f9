"""Run ABR algorithms x traces in parallel and stream one row per session to CSV.

Work is split by trace: a worker loads a trace once and runs every algorithm on it. Workers
load the video once each (pool initializer). Rows reach the CSV as traces finish, so an
interrupted run keeps what it finished; once every trace is done the CSV is rewritten in input
order (traces as given, algorithms as listed), so the finished file is the same whatever the
number of workers and whichever finished first (`streamlab reproduce` compares it byte for
byte; floats are written as Python's shortest round-trip repr).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from abr.config import SessionConfig
from abr.presentation import Presentation
from abr.registry import PROFILES, AlgorithmFactory, Profile, resolve
from simulator.live import simulate_live
from simulator.live_channel import LiveChannel, LiveSetup
from simulator.live_optimal import live_bound
from simulator.optimal import optima
from simulator.run import SimulationResult, simulate
from simulator.video import load_video
from traces.load import load_trace
from traces.trace import Trace

# The contract scripts and the QA gate read: these columns first, in this order.
RESULT_COLUMNS = (
    "trace_set",
    "trace",
    "abr",
    "startup_s",
    "rebuffer_ratio",
    "rebuffer_s",
    "stall_count",
    "bitrate_kbps",
    "switches",
    "qoe_lin",
    "qoe_log",
    "qoe_hd",
)
# With `--optimal`: the optimum's QoE_lin, stall seconds and sum of |bitrate change| (Mbit/s),
# from which the report splits each algorithm's gap into bitrate, stalls and switching.
OPTIMUM_COLUMNS = ("optimal_qoe_lin", "optimal_rebuffer_s", "optimal_switching_mbps")
# With `--live`: latency (mean and 95th percentile, time-weighted while playing), seconds and
# count of playback-rate changes, and the grand challenge's live QoE (`simulator.live_qoe`).
LIVE_COLUMNS = ("latency_mean_s", "latency_p95_s", "rate_change_s", "rate_changes", "qoe_live")
# With `--live --optimal`: the live bound (`simulator.live_optimal`, the most qoe_live a rate-1
# viewer that plays every segment can reach), and its plan's stall seconds and mean latency.
LIVE_OPTIMUM_COLUMNS = ("optimal_qoe_live", "optimal_live_rebuffer_s", "optimal_live_latency_s")
EXTRA_COLUMNS = (
    "switch_magnitude_kbps",
    "segments",
    "abandoned",
    "played_s",
    "wall_s",
    "profile",
)
# QoE_lin with start-up charged as stall time (`abr.qoe`), and with `--optimal` that metric's
# own optimum: after every column above, so each earlier layout stays a prefix of the new one.
STARTUP_COLUMNS = ("qoe_lin_startup",)
OPTIMUM_STARTUP_COLUMNS = ("optimal_qoe_lin_startup",)


@dataclass(frozen=True)
class LabSetup:
    """Everything a worker needs to run sessions; picklable."""

    video_path: str
    abr_specs: tuple[str, ...]
    profile_name: str = "default"
    noise: float = 0.0
    seed: int = 0
    # Add OPTIMUM_COLUMNS (the offline optimum for the trace), or live LIVE_OPTIMUM_COLUMNS.
    optimal: bool = False
    live: LiveSetup | None = None  # publish the video as a live channel; add LIVE_COLUMNS

    @property
    def profile(self) -> Profile:
        return PROFILES[self.profile_name]


class Lab:
    """A loaded setup: the presentation and one factory per algorithm spec."""

    def __init__(self, setup: LabSetup) -> None:
        self.setup = setup
        self.presentation: Presentation = load_video(setup.video_path)
        self.factories: dict[str, AlgorithmFactory] = {
            spec: resolve(spec, setup.profile) for spec in setup.abr_specs
        }
        if setup.live is not None:
            LiveChannel(self.presentation, setup.live)  # a chunk longer than a segment: refused

    def run(self, trace: Trace, spec: str, config: SessionConfig | None = None) -> SimulationResult:
        setup = self.setup
        if setup.live is not None:
            return simulate_live(
                trace,
                self.presentation,
                self.factories[spec](),
                setup.live,
                config or setup.profile.session,
                noise=setup.noise,
                seed=setup.seed,
            )
        return simulate(
            trace,
            self.presentation,
            self.factories[spec](),
            config or setup.profile.session,
            noise=setup.noise,
            seed=setup.seed,
        )

    def rows_for(self, trace: Trace, config: SessionConfig | None = None) -> list[dict[str, Any]]:
        config = config or self.setup.profile.session
        optimum: dict[str, float] = {}
        live = self.setup.live
        if self.setup.optimal and live is not None:
            bound = live_bound(trace, self.presentation, live, config)
            optimum = {
                "optimal_qoe_live": bound.qoe_live,
                "optimal_live_rebuffer_s": bound.rebuffer_s,
                "optimal_live_latency_s": bound.latency_mean_s,
            }
        elif self.setup.optimal:
            target = config.target_s(max(self.presentation.segment_durations_s))
            first_lowest = config.first_rendition == "lowest"
            plan, startup_plan = optima(trace, self.presentation, target, first_lowest=first_lowest)
            optimum = {
                "optimal_qoe_lin": plan.qoe_lin,
                "optimal_rebuffer_s": plan.rebuffer_s,
                "optimal_switching_mbps": plan.switching_mbps,
                "optimal_qoe_lin_startup": startup_plan.qoe_lin_startup,
            }
        rows = []
        for spec in self.setup.abr_specs:
            result = self.run(trace, spec, config)
            row: dict[str, Any] = {"trace_set": trace.set_name, "trace": trace.name, "abr": spec}
            row.update(result.summary.as_dict())
            if result.live is not None:
                row.update(result.live.as_dict())
            row["profile"] = self.setup.profile_name
            row.update(optimum)
            rows.append(row)
        return rows


_worker_lab: Lab | None = None


def _init_worker(setup: LabSetup) -> None:
    global _worker_lab  # one Lab per worker process, built once by the pool initializer
    _worker_lab = Lab(setup)


def _run_trace(path: str) -> list[dict[str, Any]]:
    assert _worker_lab is not None, "worker not initialised"
    return _worker_lab.rows_for(load_trace(path))


def iter_rows(
    setup: LabSetup, trace_paths: Sequence[str], jobs: int | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Rows per trace as they finish (in completion order)."""
    for _, batch in iter_trace_rows(setup, trace_paths, jobs):
        yield batch


def iter_trace_rows(
    setup: LabSetup, trace_paths: Sequence[str], jobs: int | None = None
) -> Iterator[tuple[int, list[dict[str, Any]]]]:
    """(index in `trace_paths`, that trace's rows) as traces finish (in completion order)."""
    jobs = jobs or os.cpu_count() or 1
    if jobs == 1 or len(trace_paths) == 1:
        lab = Lab(setup)
        for index, path in enumerate(trace_paths):
            yield index, lab.rows_for(load_trace(path))
        return
    with ProcessPoolExecutor(jobs, initializer=_init_worker, initargs=(setup,)) as pool:
        futures = {pool.submit(_run_trace, path): i for i, path in enumerate(trace_paths)}
        try:
            for future in as_completed(futures):
                yield futures[future], future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def run_to_csv(
    setup: LabSetup,
    trace_paths: Sequence[str],
    csv_path: Path,
    jobs: int | None = None,
    on_trace_done: Callable[[int], None] | None = None,
) -> list[dict[str, Any]]:
    """Run everything, appending rows to `csv_path` as they arrive; returns all rows."""
    Lab(setup)  # fail fast in this process on a bad video or algorithm spec
    columns = list(RESULT_COLUMNS) + list(EXTRA_COLUMNS)
    if setup.optimal and setup.live is None:
        columns += OPTIMUM_COLUMNS
    if setup.live is not None:
        columns += LIVE_COLUMNS
        if setup.optimal:
            columns += LIVE_OPTIMUM_COLUMNS
    columns += STARTUP_COLUMNS
    if setup.optimal and setup.live is None:
        columns += OPTIMUM_STARTUP_COLUMNS
    batches: dict[int, list[dict[str, Any]]] = {}
    csv_path.parent.mkdir(parents=True, exist_ok=True)
    with csv_path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for index, batch in iter_trace_rows(setup, trace_paths, jobs):
            writer.writerows(batch)
            handle.flush()
            batches[index] = batch
            if on_trace_done is not None:
                on_trace_done(1)
    rows = [row for index in sorted(batches) for row in batches[index]]
    if list(batches) != sorted(batches):
        _write_csv(csv_path, columns, rows)
    return rows


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Replace `path` at once: a reader never meets half the rows."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(path)
