"""`streamlab sweep`: the full grid on Dask, streamed to Parquet parts, resumable."""

from __future__ import annotations

import argparse
import ast
import os
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from abr.manifests import ManifestError
from abr.registry import PROFILES, AlgorithmSpecError
from simulator.compare import LabSetup
from simulator.sweep import (
    PartWriter,
    SweepError,
    SweepPlan,
    done_keys,
    on_dask,
    pending,
)
from simulator.video import load_video
from streamlab.commands.lab_console import algorithm_seeds, parse_abr_list
from streamlab.errors import UsageError
from streamlab.provenance import PARQUET_KEY, model_files, record
from traces.errors import TraceError
from traces.load import iter_trace_files


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("sweep", help="run a parameter grid on Dask, results to Parquet")
    p.add_argument("--traces", nargs="+", required=True, help="trace files or folders")
    p.add_argument("--video", nargs="+", required=True, help="video description files")
    p.add_argument("--abr", required=True, help="comma-separated algorithms")
    p.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="a session setting or algorithm argument and its values (repeatable)",
    )
    p.add_argument("--profile", default="default", choices=sorted(PROFILES))
    p.add_argument("--out", type=Path, required=True, help="folder for part-*.parquet")
    p.add_argument("--scheduler", help="address of an existing Dask scheduler (tcp://host:8786)")
    p.add_argument(
        "--workers", type=int, default=None, help="local cluster workers (default: cores)"
    )
    p.add_argument("--resume", action="store_true", help="skip sessions already in --out")
    p.add_argument(
        "--optimal",
        action="store_true",
        help="add the offline optimum to every row (optimal_qoe_lin, _rebuffer_s, "
        "_switching_mbps, _qoe_lin_startup)",
    )
    p.set_defaults(func=run)


def parse_param(text: str) -> tuple[str, tuple[Any, ...]]:
    name, sep, values = text.partition("=")
    if not sep or not name or not values:
        raise UsageError(f"--param {text!r}: expected NAME=V1,V2,...")
    return name.strip(), tuple(_value(v.strip()) for v in values.split(","))


def _value(text: str) -> Any:
    try:
        return ast.literal_eval(text)  # numbers, booleans, None
    except (ValueError, SyntaxError):
        return text


def run(args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    grid = dict(parse_param(p) for p in args.param)
    plan = SweepPlan(tuple(args.video), parse_abr_list(args.abr), grid, args.profile, args.optimal)
    try:
        for video in plan.videos:
            load_video(video)
        paths = [str(p) for p in iter_trace_files(args.traces)]
        plan.validate()
    except (
        TraceError,
        ManifestError,
        AlgorithmSpecError,
        SweepError,
        TypeError,
        ValueError,
    ) as exc:
        raise UsageError(str(exc)) from exc
    provenance = record(
        "sweep",
        args.argv,
        # Seeds a `--param` grid sets are in the command line; these are the defaults.
        seeds=algorithm_seeds(LabSetup(plan.videos[0], plan.abrs, plan.profile)),
        inputs=[
            *(("video", v) for v in plan.videos),
            *(("trace", p) for p in paths),
            *(("model", m) for m in model_files(plan.abrs)),
        ],
        results="part-*.parquet",
    )
    tasks = plan.tasks(paths)
    if args.resume:
        tasks = pending(tasks, done_keys(args.out))
    elif any(args.out.glob("part-*.parquet")):
        raise UsageError(f"{args.out} already holds results: pass --resume, or another --out")
    sessions = sum(len(t.trace_paths) for t in tasks)
    console.print(f"sweep: {sessions} sessions in {len(tasks)} tasks -> {args.out}")
    # Each part carries the record of the run that wrote it: a resumed sweep's parts may
    # come from several runs.
    writer = PartWriter(args.out, {PARQUET_KEY: provenance.to_json()})
    with _client(args.scheduler, args.workers) as client:
        console.print(f"dask dashboard: {client.dashboard_link}")
        with Progress(
            TextColumn("[bold]sweeping"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("sessions"),
            TimeRemainingColumn(),
            console=console,
        ) as progress:
            bar = progress.add_task("sessions", total=sessions)
            for rows in on_dask(client, tasks):
                writer.write(rows)
                progress.advance(bar, len(rows))
    console.print(f"sweep: wrote {writer.sessions} sessions to {args.out}")
    return 0


def _client(scheduler: str | None, workers: int | None) -> Client:
    if scheduler:
        return Client(scheduler)
    cluster = LocalCluster(
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,  # the simulator is pure Python: processes, not threads
        processes=True,
        dashboard_address="127.0.0.1:0",
    )
    return Client(cluster)
