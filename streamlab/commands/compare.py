"""`streamlab compare`: algorithms x traces in parallel -> results.csv, report.md, report.html."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

import numpy as np
import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from abr.manifests import ManifestError
from abr.registry import AlgorithmSpecError
from simulator.compare import Lab, LabSetup, run_to_csv
from simulator.plots import Timeline
from simulator.report import median_sessions, summary_table, write_report
from streamlab.commands.simulate import add_lab_options
from streamlab.errors import UsageError
from traces.errors import TraceError
from traces.load import iter_trace_files, load_trace

DEFAULT_ABRS = "throughput,bba,bola,bolae,dynamic,robustmpc,streamlab"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("compare", help="compare ABR algorithms over trace sets")
    p.add_argument(
        "--traces", nargs="+", required=True, help="trace files or folders (one set per folder)"
    )
    p.add_argument("--abr", default=DEFAULT_ABRS, help=f"comma-separated (default {DEFAULT_ABRS})")
    add_lab_options(p)
    p.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--no-report", action="store_true", help="write the CSV only")
    p.add_argument(
        "--optimal",
        action="store_true",
        help="add the offline optimum per trace (dynamic programme): optimal_qoe_lin, its "
        "stalls and switching, and where each algorithm's gap to it goes",
    )
    p.set_defaults(func=run)


def parse_abr_list(text: str) -> tuple[str, ...]:
    specs = tuple(s.strip() for s in text.split(",") if s.strip())
    if not specs:
        raise UsageError("--abr names no algorithm")
    return specs


def run(args: argparse.Namespace) -> int:
    setup = LabSetup(
        args.video, parse_abr_list(args.abr), args.profile, args.noise, args.seed, args.optimal
    )
    try:
        paths = [str(p) for p in iter_trace_files(args.traces)]
    except TraceError as exc:
        raise UsageError(str(exc)) from exc
    if not paths:
        raise UsageError(f"no trace files in {' '.join(args.traces)}")
    command = "streamlab " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return execute(setup, paths, args.out, args.jobs, report=not args.no_report, command=command)


def execute(
    setup: LabSetup,
    paths: list[str],
    out: Path,
    jobs: int | None,
    *,
    report: bool = True,
    command: str = "",
) -> int:
    """Simulate every session, print the summary, write CSV (and report); the exit code."""
    console = Console(stderr=True)
    try:
        lab = Lab(setup)
    except (ManifestError, AlgorithmSpecError) as exc:
        raise UsageError(str(exc)) from exc
    csv_path = out / "results.csv"
    with Progress(
        TextColumn("[bold]simulating"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("traces"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        # Off a terminal the bar would only leave a blank line on stderr before any error.
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("traces", total=len(paths))
        try:
            rows = run_to_csv(setup, paths, csv_path, jobs, lambda n: progress.advance(task, n))
        except TraceError as exc:
            raise UsageError(f"{exc} (rows finished so far are in {csv_path})") from exc
    results = pd.DataFrame(rows)
    console.print(f"{len(rows)} sessions -> {csv_path}")
    print_summary(results)
    if report:
        timelines = [
            timeline_for(lab, abr, trace_set, trace, paths, results)
            for abr, trace_set, trace in median_sessions(results)
        ]
        written = write_report(results, out, timelines=timelines, command=command)
        console.print(f"report: {written.html} (and {written.markdown.name})")
    return 0


def timeline_for(
    lab: Lab, abr: str, trace_set: str, trace_name: str, paths: list[str], results: pd.DataFrame
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


SUMMARY_COLUMNS = {
    "set": "set",
    "abr": "abr",
    "sessions": "n",
    "bitrate_kbps": "kbit/s",
    "rebuffer_%": "rebuf %",
    "over_0.5%_%": ">0.5% %",
    "startup_p99_s": "start p99 s",
    "switches": "switches",
    "qoe_lin": "QoE_lin",
}


def print_summary(results: pd.DataFrame) -> None:
    table_df = summary_table(results)
    table = Table(title="mean per trace set x algorithm")
    columns = [c for c in SUMMARY_COLUMNS if c in table_df.columns]
    if "%_of_optimum" in table_df.columns:
        columns.append("%_of_optimum")
    for column in columns:
        table.add_column(
            SUMMARY_COLUMNS.get(column, column),
            justify="left" if column in ("set", "abr") else "right",
        )
    for _, row in table_df.iterrows():
        table.add_row(*(_cell(row[c]) for c in columns))
    console = Console()
    if not console.is_terminal:
        console = Console(width=140)  # logs and CI: do not squeeze the table to 80 columns
    console.print(table)


def _cell(value: object) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 1000 else f"{value:.3g}"
    return str(value)
