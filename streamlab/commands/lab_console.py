"""What the lab's commands share on the console (not a command itself): the options of a
simulated session, the --abr list, the progress bar, the summary table, and a comparison run
with both (compare and demo)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from abr.registry import PROFILES, resolve
from simulator.compare import Lab, LabSetup
from simulator.comparison import run_comparison
from simulator.report import summary_table
from streamlab.errors import UsageError
from streamlab.provenance import Provenance, model_files, record


def add_lab_options(parser: argparse.ArgumentParser) -> None:
    """Options shared by simulate and compare."""
    parser.add_argument("--video", required=True, help="video description (Sabre-style JSON)")
    parser.add_argument(
        "--profile", default="default", choices=sorted(PROFILES), help="session settings profile"
    )
    parser.add_argument(
        "--noise", type=float, default=0.0, help="multiplicative bandwidth noise, e.g. 0.1"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed for --noise")


def parse_abr_list(text: str) -> tuple[str, ...]:
    specs = tuple(s.strip() for s in text.split(",") if s.strip())
    if not specs:
        raise UsageError("--abr names no algorithm")
    return specs


@contextmanager
def progress_bar(
    verb: str, unit: str, total: int, console: Console
) -> Iterator[Callable[[int], None]]:
    """A bar on stderr while the block runs; yields `advance(n)`. Off a terminal it would only
    leave a blank line on stderr before any error, so it is shown on terminals only."""
    with Progress(
        TextColumn(f"[bold]{verb}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn(unit),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task(unit, total=total)
        yield lambda n: progress.advance(task, n)


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
    "latency_p95_s": "latency p95 s",
    "qoe_live": "QoE_live",
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


def lab_provenance(
    kind: str,
    argv: Sequence[str],
    setup: LabSetup,
    paths: Sequence[str],
    seeds: dict[str, int] | None = None,
) -> Provenance:
    """The record of a comparison: its video, traces and algorithm modules, and every seed
    (the noise's, and each algorithm's own, such as LoL+'s)."""
    Lab(setup)  # a bad video or algorithm fails with its own error, before anything is hashed
    inputs: list[tuple[str, str | Path]] = [("video", setup.video_path)]
    inputs += [("trace", p) for p in paths]
    inputs += [("model", m) for m in model_files(setup.abr_specs)]
    return record(
        kind,
        argv,
        seeds={**(seeds or {}), "noise_seed": setup.seed, **algorithm_seeds(setup)},
        inputs=inputs,
        results="results.csv",
    )


def algorithm_seeds(setup: LabSetup) -> dict[str, int]:
    """`SPEC seed` for each algorithm that draws random numbers from a seed of its own."""
    seeds = {}
    for spec in setup.abr_specs:
        seed = getattr(resolve(spec, setup.profile)(), "seed", None)
        if isinstance(seed, int):
            seeds[f"{spec} seed"] = seed
    return seeds


def compare_on_console(
    setup: LabSetup,
    paths: Sequence[str],
    out: Path,
    jobs: int | None,
    *,
    report: bool = True,
    provenance: Provenance,
) -> int:
    """`run_comparison` with a progress bar and the summary table, its provenance written
    beside the results first (an interrupted run's rows have it too); the exit code."""
    console = Console(stderr=True)
    provenance.write(out)
    with progress_bar("simulating", "traces", len(paths), console) as advance:
        done = run_comparison(
            setup,
            paths,
            out,
            jobs,
            report=report,
            command=provenance.command_line,
            provenance=provenance.summary_rows(),
            advance=advance,
        )
    console.print(f"{len(done.results)} sessions -> {done.csv_path}")
    print_summary(done.results)
    if done.report is not None:
        console.print(f"report: {done.report.html} (and {done.report.markdown.name})")
    return 0
