"""`streamlab traces stats PATH...`: count, duration and bandwidth per trace set."""

from __future__ import annotations

import argparse
import sys

from rich.console import Console

from traces.errors import TraceError
from traces.load import PARSERS, load_traces
from traces.stats import render_stats_table, trace_set_stats


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("traces", help="inspect network traces")
    commands = p.add_subparsers(dest="traces_command", required=True, metavar="COMMAND")
    stats = commands.add_parser(
        "stats", help="per-set statistics (a set is the folder a trace file is in)"
    )
    stats.add_argument("paths", nargs="+", metavar="PATH", help="trace files or folders")
    stats.add_argument("--format", choices=sorted(PARSERS), help="skip format detection")
    stats.set_defaults(func=run_stats)


def run_stats(args: argparse.Namespace) -> int:
    # Errors are handled here rather than left to the CLI, so the command keeps its contract
    # (one line on stderr, exit code 2) however it is invoked.
    try:
        traces = load_traces(args.paths, args.format)
    except TraceError as exc:
        return _fail(str(exc))
    if not traces:
        return _fail(f"no trace files in {' '.join(args.paths)}")
    Console().print(render_stats_table(trace_set_stats(traces)))
    return 0


def _fail(message: str) -> int:
    print(f"streamlab traces: error: {message}", file=sys.stderr)
    return 2
