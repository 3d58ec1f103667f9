"""`streamlab qa`: real playback sessions over trace-shaped links, gated on QoE targets.

Exit codes: 0 every target holds, 1 a target is missed, 2 bad input (targets file, traces,
options, an unreachable backend), with a one-line reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from qa.faults import ALL_FAULTS
from qa.pipeline import QaRequest, run_qa
from streamlab.provenance import model_files, record
from traces.load import iter_trace_files


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "qa", help="real playback sessions over trace-shaped links, gated on QoE targets"
    )
    p.add_argument("--targets", type=Path, help="targets file (TOML); default: the product's")
    p.add_argument("--traces", nargs="+", required=True, metavar="DIR", help="trace folders/files")
    p.add_argument("--sessions", type=int, default=10, help="sessions to play (default 10)")
    p.add_argument("--concurrency", type=int, default=2, help="sessions at a time (default 2)")
    p.add_argument("--abr", default="streamlab", help="algorithm name or package.module:Class")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--title", metavar="ID", help="play this video id (default: the first)")
    which.add_argument("--catalog", action="store_true", help="every title, round-robin")
    which.add_argument(
        "--live",
        metavar="CHANNEL",
        help="watch this live channel (its NAME; the started backend runs it) instead of titles",
    )
    p.add_argument(
        "--live-seconds",
        type=float,
        default=60.0,
        help="how long each --live session watches (default 60)",
    )
    p.add_argument("--backend", metavar="URL", help="a running backend's API (default: start one)")
    p.add_argument("--no-decode", action="store_true", help="count bytes instead of decoding")
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument(
        "--demo-seconds", type=int, default=20, help="length of the started backend's titles"
    )
    p.add_argument(
        "--max-height", type=int, default=720, help="tallest rung of the started backend"
    )
    p.add_argument(
        "--over-limit",
        action="store_true",
        help="run above the measured concurrency limit anyway (results are distorted)",
    )
    p.add_argument(
        "--faults",
        nargs="?",
        const="all",
        metavar="KINDS",
        help=f"inject faults: all (default) or a comma list of {', '.join(ALL_FAULTS)}",
    )
    p.add_argument(
        "--fidelity",
        action="store_true",
        help="replay every session in the simulator and report the differences",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the fault plan (default 0)")
    dask = p.add_mutually_exclusive_group()
    dask.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="play on a Dask LocalCluster of N worker processes (--concurrency per worker)",
    )
    dask.add_argument(
        "--scheduler",
        metavar="tcp://HOST:PORT",
        help="play on an existing Dask cluster (needs --backend, reachable from its workers)",
    )
    p.add_argument(
        "--host-limit",
        type=int,
        metavar="N",
        help="Dask runs: sessions at a time per host, all its workers together "
        "(default: the measured limit, 8 decoding / 16 --no-decode)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    # Hashed before the run reads them; written after it, beside the results it describes.
    # Real-time measurements: `streamlab reproduce` says why it cannot re-run them byte for byte.
    inputs: list[tuple[str, str | Path]] = [("trace", p) for p in iter_trace_files(args.traces)]
    if args.targets is not None and args.targets.is_file():  # else qa names what is wrong
        inputs.append(("targets", args.targets))
    inputs += [("model", m) for m in model_files([args.abr])]
    provenance = record(
        "qa",
        args.argv,
        seeds={"fault_seed": args.seed},
        inputs=inputs,
        results="sessions.csv",
    )
    code = run_qa(
        QaRequest(
            traces=list(args.traces),
            out=args.out,
            targets=args.targets,
            sessions=args.sessions,
            concurrency=args.concurrency,
            abr=args.abr,
            title=args.title,
            catalog=args.catalog,
            backend=args.backend,
            decode=not args.no_decode,
            demo_seconds=args.demo_seconds,
            max_height=args.max_height,
            over_limit=args.over_limit,
            faults=args.faults,
            fidelity=args.fidelity,
            seed=args.seed,
            show_progress=not args.quiet and sys.stderr.isatty(),
            live=args.live,
            live_seconds=args.live_seconds,
            workers=args.workers,
            scheduler=args.scheduler,
            host_limit=args.host_limit,
            provenance=provenance.summary_rows(),
        )
    )
    provenance.write(args.out)
    return code
