"""`compare`'s whole run without a console: every session into results.csv, the per-segment
timelines of the median sessions, and the Markdown/HTML report. The command line adds only
the progress bar and the summary table; a notebook or a script calls `run_comparison`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from simulator.compare import Lab, LabSetup, run_to_csv
from simulator.plots import Timeline
from simulator.report import ReportPaths, median_sessions, write_report
from traces.errors import TraceError
from traces.load import load_trace

DEFAULT_ABRS = ("throughput", "bba", "bola", "bolae", "dynamic", "robustmpc", "streamlab")


@dataclass(frozen=True)
class Comparison:
    results: pd.DataFrame  # one row per session, the results.csv contract
    csv_path: Path
    report: ReportPaths | None  # None when the report was not asked for


def run_comparison(
    setup: LabSetup,
    paths: Sequence[str],
    out: Path,
    jobs: int | None = None,
    *,
    report: bool = True,
    command: str = "",
    provenance: Sequence[tuple[str, str]] = (),
    advance: Callable[[int], None] = lambda _n: None,
) -> Comparison:
    """Simulate every algorithm on every trace in `paths` into `out`; `advance(n)` is called as
    n more traces finish; `provenance` rows go into the report. Bad input raises the loaders'
    own errors (ManifestError, AlgorithmSpecError, TraceError naming where the finished rows
    are)."""
    lab = Lab(setup)  # checks the video and every algorithm before any work starts
    csv_path = out / "results.csv"
    try:
        rows = run_to_csv(setup, list(paths), csv_path, jobs, advance)
    except TraceError as exc:
        reason = f"{exc.reason} (rows finished so far are in {csv_path})"
        raise TraceError(reason, exc.path, exc.line) from exc
    results = pd.DataFrame(rows)
    written = None
    if report:
        timelines = [
            timeline_for(lab, abr, trace_set, trace, paths, results)
            for abr, trace_set, trace in median_sessions(results)
        ]
        written = write_report(
            results, out, timelines=timelines, command=command, provenance=provenance
        )
    return Comparison(results, csv_path, written)


def timeline_for(
    lab: Lab,
    abr: str,
    trace_set: str,
    trace_name: str,
    paths: Sequence[str],
    results: pd.DataFrame,
) -> Timeline:
    """Re-run one session (deterministic, cheap) to get its per-segment log."""
    path = next(p for p in paths if Path(p).name == trace_name and Path(p).parent.name == trace_set)
    trace = load_trace(path)
    result = lab.run(trace, abr)
    row = results[
        (results.abr == abr) & (results.trace == trace_name) & (results.trace_set == trace_set)
    ]
    return Timeline(
        abr=abr,
        trace_set=trace_set,
        trace=trace,
        downloads=result.metrics.downloads,
        bitrates_kbps=list(lab.presentation.bitrates_kbps),
        summary={
            str(k): float(v)
            for k, v in row.iloc[0].items()
            if isinstance(v, int | float | np.number)
        },
    )
