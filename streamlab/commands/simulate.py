"""`streamlab simulate`: one session, its QoE summary (and optionally its per-segment log)."""

from __future__ import annotations

import argparse
import csv
import json
import math
from dataclasses import asdict
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from abr.manifests import ManifestError
from abr.registry import PROFILES, AlgorithmSpecError, resolve
from simulator.run import SimulationResult, simulate
from simulator.video import load_video
from streamlab.commands.lab_console import add_lab_options
from streamlab.errors import UsageError
from traces.errors import TraceError
from traces.load import load_trace

LOG_COLUMNS = (
    "segment_index",
    "rendition_index",
    "bitrate_kbps",
    "bytes",
    "requested_at",
    "first_byte_at",
    "done_at",
    "throughput_kbps",
    "buffer_before_s",
    "buffer_after_s",
    "stall_s",
    "abandoned",
    "reason",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("simulate", help="simulate one session and print its QoE")
    p.add_argument("--trace", required=True, help="network trace file (any supported format)")
    p.add_argument("--abr", default="streamlab", help="algorithm name or package.module:Class")
    add_lab_options(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--log", type=Path, help="write the per-segment log to this CSV file")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        trace = load_trace(args.trace)
        presentation = load_video(args.video)
        factory = resolve(args.abr, PROFILES[args.profile])
    except (TraceError, ManifestError, AlgorithmSpecError) as exc:
        raise UsageError(str(exc)) from exc
    result = simulate(
        trace,
        presentation,
        factory(),
        PROFILES[args.profile].session,
        noise=args.noise,
        seed=args.seed,
    )
    row: dict[str, Any] = {"trace_set": trace.set_name, "trace": trace.name, "abr": args.abr}
    row.update(result.summary.as_dict())
    if args.log:
        write_log(result, [r.bitrate_kbps for r in presentation.renditions], args.log)
    if args.json:
        print(
            json.dumps(
                {k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
            )
        )
    else:
        table = Table(title=f"{args.abr} on {trace.name}")
        table.add_column("metric")
        table.add_column("value", justify="right")
        for key, value in row.items():
            table.add_row(key, f"{value:.4g}" if isinstance(value, float) else str(value))
        Console().print(table)
    return 0


def write_log(result: SimulationResult, bitrates_kbps: list[float], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=LOG_COLUMNS)
        writer.writeheader()
        for record in result.metrics.downloads:
            fields = asdict(record)
            writer.writerow(
                {
                    **{k: fields[k] for k in LOG_COLUMNS if k in fields},
                    "reason": record.explanation,
                    "bitrate_kbps": bitrates_kbps[record.rendition_index],
                    "bytes": round(record.bits / 8),
                }
            )
