"""`streamlab report RESULTS`: one HTML page from a sweep (Parquet parts) or a results.csv."""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path
from typing import Any

import pandas as pd
from rich.console import Console

from abr.registry import PROFILES, resolve
from simulator.plots import Timeline
from simulator.report import write_report
from simulator.run import simulate
from simulator.sweep import SweepError, read_results, split_params
from simulator.video import load_video
from streamlab.errors import UsageError
from streamlab.provenance import FILE_NAME, REPORT_FILE_NAME, Provenance, read, record
from traces.load import load_trace


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser("report", help="an HTML report from sweep or compare results")
    p.add_argument("results", type=Path, help="a sweep folder (part-*.parquet) or a results.csv")
    p.add_argument("--out", type=Path, help="report folder (default: beside the results)")
    p.add_argument(
        "--worst", type=int, default=5, help="timelines of the N worst sessions per algorithm"
    )
    p.set_defaults(func=run)


def load_results(path: Path) -> pd.DataFrame:
    try:
        if path.is_dir():
            return read_results(path)
        return pd.read_csv(path)
    except (SweepError, OSError, pd.errors.ParserError) as exc:
        raise UsageError(str(exc)) from exc


def label_algorithms(results: pd.DataFrame) -> pd.DataFrame:
    """With several parameter sets in a sweep, each (algorithm, parameters) is its own line."""
    if "params" in results.columns and results.params.nunique() > 1:
        results = results.copy()
        results["abr"] = results.abr + " " + results.params.map(_short_params)
    return results


def _short_params(text: str) -> str:
    return ",".join(f"{k}={v}" for k, v in json.loads(text).items())


def worst_sessions(results: pd.DataFrame, count: int) -> list[tuple[str, Any]]:
    """(algorithm label, row) of the `count` lowest-QoE sessions of each algorithm that can be
    replayed (sweep results name their video and trace files)."""
    if count <= 0 or not {"trace_path", "video_path"} <= set(results.columns):
        return []
    return [
        (str(label), row)
        for label, group in results.groupby("abr", sort=False)
        for row in group.nsmallest(count, "qoe_lin").itertuples(index=False)
    ]


def worst_timelines(results: pd.DataFrame, count: int) -> list[Timeline]:
    """Replay the `count` lowest-QoE sessions of each algorithm for their timelines."""
    timelines = []
    for label, row in worst_sessions(results, count):
        base_abr = str(label).split(" ", 1)[0]
        profile = PROFILES[str(getattr(row, "profile", "default"))]
        params = json.loads(str(getattr(row, "params", "{}")))
        session, by_algorithm = split_params(params, [base_abr], profile.name)
        config = dataclasses.replace(profile.session, **session)
        video = load_video(str(row.video_path))
        trace = load_trace(str(row.trace_path))
        algorithm = resolve(base_abr, profile, **by_algorithm[base_abr])()
        result = simulate(trace, video, algorithm, config)
        timelines.append(
            Timeline(
                abr=str(label),
                trace_set=trace.set_name,
                trace=trace,
                downloads=result.metrics.downloads,
                bitrates_kbps=list(video.bitrates_kbps),
                summary=result.summary.as_dict(),
                why="worst",
            )
        )
    return timelines


def run(args: argparse.Namespace) -> int:
    results = label_algorithms(load_results(args.results))
    out = args.out or (args.results if args.results.is_dir() else args.results.parent)
    timelines = worst_timelines(results, args.worst)
    provenance = record(
        "report",
        args.argv,
        seeds={},
        inputs=[*(("results", p) for p in result_files(args.results)), *replayed(results, args)],
        results="report.md",
        sources=source_records(args.results),
    )
    written = write_report(
        results,
        out,
        timelines=timelines,
        title="streamlab report",
        command=provenance.command_line,
        provenance=provenance.summary_rows(),
    )
    # Its own file: the folder may hold the results' provenance.json already.
    provenance.write(out, REPORT_FILE_NAME)
    Console(stderr=True).print(f"report: {written.html} ({len(results)} sessions)")
    return 0


def result_files(path: Path) -> list[Path]:
    return sorted(path.glob("part-*.parquet")) if path.is_dir() else [path]


def replayed(results: pd.DataFrame, args: argparse.Namespace) -> list[tuple[str, str]]:
    """The videos and traces `worst_timelines` reads to replay sessions."""
    rows = [row for _, row in worst_sessions(results, args.worst)]
    return [("video", str(r.video_path)) for r in rows] + [
        ("trace", str(r.trace_path)) for r in rows
    ]


def source_records(path: Path) -> list[Provenance]:
    """The provenance the results carry, if they were recorded with one."""
    folder = path if path.is_dir() else path.parent
    if not (folder / FILE_NAME).is_file() and not path.is_dir():
        return []
    try:
        records = read(folder)
    except UsageError:
        return []  # results from before streamlab recorded provenance
    # A sweep's parts each carry their run's record: one copy per run is enough.
    return list({r.to_json(): r for r in records}.values())
