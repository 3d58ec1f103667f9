"""`streamlab compare`: algorithms x traces in parallel -> results.csv, report.md, report.html."""

from __future__ import annotations

import argparse
from pathlib import Path

from simulator.compare import LabSetup
from simulator.comparison import DEFAULT_ABRS
from simulator.live_channel import LiveSetup
from streamlab.commands.lab_console import (
    add_lab_options,
    compare_on_console,
    lab_provenance,
    parse_abr_list,
)
from streamlab.errors import UsageError
from traces.load import iter_trace_files


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("compare", help="compare ABR algorithms over trace sets")
    p.add_argument(
        "--traces", nargs="+", required=True, help="trace files or folders (one set per folder)"
    )
    default = ",".join(DEFAULT_ABRS)
    p.add_argument("--abr", default=default, help=f"comma-separated (default {default})")
    add_lab_options(p)
    p.add_argument("--out", type=Path, default=Path("results"), help="output folder")
    p.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    p.add_argument("--no-report", action="store_true", help="write the CSV only")
    p.add_argument(
        "--optimal",
        action="store_true",
        help="add the offline optimum per trace (dynamic programme): optimal_qoe_lin, its "
        "stalls and switching, and where each algorithm's gap to it goes; "
        "optimal_qoe_lin_startup, the optimum with start-up charged as stall time; with --live "
        "the live bound instead: the most qoe_live a viewer playing every segment at rate 1 "
        "can reach (optimal_qoe_live, optimal_live_rebuffer_s, optimal_live_latency_s)",
    )
    live = p.add_argument_group("live (the video published as a live channel)")
    live.add_argument(
        "--live",
        action="store_true",
        help="each session joins the video as a live channel at the target latency; adds "
        "latency_mean_s, latency_p95_s, rate_change_s, rate_changes and qoe_live",
    )
    live.add_argument(
        "--target-latency",
        type=float,
        metavar="S",
        help="live latency to join at and hold, in seconds (required with --live)",
    )
    live.add_argument(
        "--segment-duration",
        type=float,
        metavar="S",
        help="re-cut the video's segments to S seconds, same bitrates (default: its own)",
    )
    live.add_argument(
        "--chunk-duration",
        type=float,
        metavar="S",
        help="chunked CMAF (low-latency DASH): each segment is made and served in S-second "
        "chunks, fetchable from its first chunk on (availabilityTimeOffset = segment - S), so "
        "latency can go below one segment",
    )
    p.set_defaults(func=run)


def live_setup(args: argparse.Namespace) -> LiveSetup | None:
    if not args.live:
        given = [
            option
            for option, value in (
                ("--target-latency", args.target_latency),
                ("--segment-duration", args.segment_duration),
                ("--chunk-duration", args.chunk_duration),
            )
            if value is not None
        ]
        if given:
            raise UsageError(f"{' and '.join(given)} need --live")
        return None
    if args.target_latency is None:
        raise UsageError("--live needs --target-latency S (seconds behind the live edge)")
    if args.optimal and args.chunk_duration is not None:
        raise UsageError(
            "--optimal with --chunk-duration: the live bound models segments made and played "
            "whole, so it bounds nothing under chunked delivery"
        )
    try:
        return LiveSetup(args.target_latency, args.segment_duration, args.chunk_duration)
    except ValueError as exc:
        raise UsageError(f"--live: {exc}") from None


def run(args: argparse.Namespace) -> int:
    setup = LabSetup(
        args.video,
        parse_abr_list(args.abr),
        args.profile,
        args.noise,
        args.seed,
        args.optimal,
        live_setup(args),
    )
    paths = [str(p) for p in iter_trace_files(args.traces)]
    if not paths:
        raise UsageError(f"no trace files in {' '.join(args.traces)}")
    provenance = lab_provenance("compare", args.argv, setup, paths)
    return compare_on_console(
        setup, paths, args.out, args.jobs, report=not args.no_report, provenance=provenance
    )
