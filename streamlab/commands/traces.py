"""`streamlab traces stats PATH...`: count, duration and bandwidth per trace set."""

from __future__ import annotations

import argparse

from rich.console import Console

from streamlab.errors import UsageError
from traces.errors import TraceError
from traces.load import PARSERS, load_traces
from traces.stats import render_stats_table, trace_set_stats


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("traces", help="inspect network traces")
    commands = p.add_subparsers(dest="traces_command", required=True, metavar="COMMAND")
    stats = commands.add_parser("stats", help="per-set statistics")
    stats.add_argument("paths", nargs="+", help="trace files or folders")
    stats.add_argument("--format", choices=sorted(PARSERS), help="skip format detection")
    stats.set_defaults(func=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    try:
        traces = load_traces(args.paths, args.format)
    except TraceError as exc:
        raise UsageError(str(exc)) from exc
    Console().print(render_stats_table(trace_set_stats(traces)))
    return 0
