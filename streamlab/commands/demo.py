"""`streamlab demo`: the lab end to end on built-in synthetic traces (+ the 4G dev set if present)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from simulator.compare import LabSetup
from simulator.comparison import DEFAULT_ABRS
from simulator.synthetic_video import synthetic_video
from streamlab.commands.lab_console import compare_on_console, lab_provenance, parse_abr_list
from traces.formats import sabre_json
from traces.load import iter_trace_files
from traces.synthetic import builtin_set

TRACES_SEED = 0
VIDEO_SEED = 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "demo", help="compare the built-in algorithms and the offline optimum on synthetic traces"
    )
    p.add_argument("--out", type=Path, default=Path("demo-results"))
    p.add_argument("--shared", type=Path, default=Path("../shared"), help="dev data folder, if any")
    p.add_argument("--abr", default=",".join(DEFAULT_ABRS))
    p.add_argument("--jobs", type=int, default=None)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    out: Path = args.out
    synthetic_dir = out / "traces" / "synthetic"
    synthetic_dir.mkdir(parents=True, exist_ok=True)
    for trace in builtin_set(seed=TRACES_SEED):
        (synthetic_dir / f"{trace.name}.json").write_text(sabre_json.dump(trace))
    sources = [synthetic_dir]
    shared: Path = args.shared
    video = shared / "videos" / "bbb.json"
    seeds = {"synthetic_traces_seed": TRACES_SEED}
    if not video.is_file():
        video = out / "synthetic-video.json"
        video.write_text(json.dumps(synthetic_video(seed=VIDEO_SEED)))
        seeds["synthetic_video_seed"] = VIDEO_SEED
    if (shared / "traces" / "sabre-4g").is_dir():
        sources.append(shared / "traces" / "sabre-4g")
    paths = [str(p) for p in iter_trace_files(sources)]
    print(
        f"streamlab demo: {len(paths)} traces from {', '.join(str(s) for s in sources)}; video {video}"
    )
    setup = LabSetup(str(video), parse_abr_list(args.abr), optimal=True)
    provenance = lab_provenance("demo", args.argv, setup, paths, seeds)
    return compare_on_console(setup, paths, out, args.jobs, provenance=provenance)
