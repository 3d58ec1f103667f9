"""QA on Dask against one process: the same `--no-decode` sessions (same seed, traces and
titles) played by `streamlab qa` in one process and on a LocalCluster of two worker processes,
then a long run on the cluster. Measures each run's wall time (the command's, cluster start
included, and the sessions' own), the most sessions each host played at once against its
limit, and the gate; says whether the cluster planned the same sessions and reached the
same gate as one process.

    python -m bench.qa_dask                      # 40 sessions both ways, then 200 on the cluster
    python -m bench.qa_dask --compare 20 --long 0 --out qa-dask.md

Prints a Markdown section (and writes it to --out when given). Skipped cleanly without nginx
or Dask.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import json
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.qa import _pct, qa_run, shaper_error_pct
from qa.backend import ManagedBackend, log_in, open_api, ready_titles
from traces import synthetic
from traces.formats import sabre_json

TITLE_SECONDS = 8
MAX_HEIGHT = 720
LINKS_KBPS = (4_000, 6_000, 8_000, 12_000)
WORKERS = 2
PER_WORKER = 8  # two workers at 8 each: the host's 16 --no-decode sessions
ONE_PROCESS = 16  # the measured --no-decode limit of one process


@dataclass(frozen=True)
class Run:
    label: str
    sessions: int
    command_wall_s: float
    summary: dict[str, Any]

    @property
    def plan(self) -> list[tuple[str, str, str]]:
        return [(r["session"], r["trace"], r["video_id"]) for r in self.summary["rows"]]

    @property
    def gate(self) -> dict[str, bool]:
        return {name: t["met"] for name, t in self.summary["targets"].items()}


def _traces(folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for kbps in LINKS_KBPS:
        trace = synthetic.constant(kbps, duration_s=60)
        path = folder / f"constant-{kbps // 1000}mbit.json"
        path.write_text(sabre_json.dump(trace))
        paths.append(path)
    return paths


async def _packaged(api_url: str) -> None:
    api = open_api(api_url)
    try:
        await log_in(api, "demo", "demo")
        await ready_titles(api, 600)
    finally:
        await api.client.aclose()


def _run(label: str, out: Path, api: str, traces: Sequence[Path], *args: str) -> Run:
    started = time.monotonic()
    summary = qa_run(out, api, traces, "--no-decode", "--seed", "7", *args)
    run = Run(label, len(summary["rows"]), time.monotonic() - started, summary)
    print(f"bench.qa_dask: {label}: {run.command_wall_s:.1f} s", file=sys.stderr, flush=True)
    return run


def measure(work: Path, compare: int, long: int) -> list[Run]:
    backend = ManagedBackend(work / "backend", TITLE_SECONDS, MAX_HEIGHT)
    api = backend.start()
    asyncio.run(_packaged(api))  # the catalog is made before any run is timed
    traces = _traces(work / "traces")
    runs = []
    try:
        if compare:
            runs.append(
                _run(
                    "one process",
                    work / "one",
                    api,
                    traces,
                    *("--sessions", str(compare), "--concurrency", str(ONE_PROCESS)),
                )
            )
            runs.append(
                _run(
                    f"LocalCluster, {WORKERS} workers",
                    work / "dask",
                    api,
                    traces,
                    *("--sessions", str(compare), "--concurrency", str(PER_WORKER)),
                    *("--workers", str(WORKERS)),
                )
            )
        if long:
            runs.append(
                _run(
                    f"LocalCluster, {WORKERS} workers",
                    work / "long",
                    api,
                    traces,
                    *("--sessions", str(long), "--concurrency", str(PER_WORKER)),
                    *("--workers", str(WORKERS)),
                )
            )
    finally:
        backend.stop()
    return runs


def markdown(runs: Sequence[Run]) -> str:
    lines = [
        "## QA on Dask (`streamlab qa --workers`)\n",
        f"`--no-decode` sessions of an {TITLE_SECONDS} s demo title (<= {MAX_HEIGHT}p, 2 s "
        "segments) over constant "
        f"{'/'.join(str(k // 1000) for k in LINKS_KBPS)} Mbit/s links, seed 7, the default "
        f"targets; one process at {ONE_PROCESS} at a time, the LocalCluster at {PER_WORKER} "
        f"per worker and the default {ONE_PROCESS} per host. Command wall: the whole "
        "`streamlab qa` (cluster start and stop included, backend already running); sessions "
        "wall: first session start to last end. Peak: the most sessions one host played at "
        "once, from their start and end times.\n",
        "| run | sessions | failed | command wall | sessions wall | sessions/min | peak per host (limit) | ttff p50 / p99 | mean rebuffer | shaper error mean / worst | gate | plan and gate as one process |",
        "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    reference = runs[0] if runs and runs[0].summary["mode"] == "process" else None
    for run in runs:
        s = run.summary
        rows = s["rows"]
        ttff = [float(r["ttff_s"]) for r in rows if r["ttff_s"] not in ("", "nan")]
        err_mean, err_worst = shaper_error_pct(rows)
        peaks = ", ".join(f"{h['peak']} ({h['limit']})" for h in s["hosts"])
        rebuffer = statistics.fmean(float(r["rebuffer_ratio"] or 0) for r in rows)
        same = "—"
        if reference is not None and run is not reference and run.sessions == reference.sessions:
            same = "yes" if (run.plan, run.gate) == (reference.plan, reference.gate) else "NO"
        missed = [name for name, met in run.gate.items() if not met]
        lines.append(
            f"| {run.label} | {run.sessions} | {s['failed']} | {run.command_wall_s:.1f} s | "
            f"{s['wall_s']:.1f} s | {run.sessions / s['wall_s'] * 60:.0f} | {peaks} | "
            f"{_pct(ttff, 50):.2f} / {_pct(ttff, 99):.2f} s | {rebuffer * 100:.2f} % | "
            f"{err_mean:+.1f} % / {err_worst:+.1f} % | "
            f"{'pass' if not missed else 'missed ' + ', '.join(missed)} | {same} |"
        )
    lines.append(
        "\nRun with `python -m bench.qa_dask` (options: `--compare N`, `--long N`, `--out FILE`).\n"
    )
    return "\n".join(lines)


def _skipped() -> str | None:
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "nginx is not installed"
    if importlib.util.find_spec("distributed") is None:
        return "Dask is not installed (the 'sweep' extra)"
    return None


def run(out_dir: Path, compare: int = 40, long: int = 200) -> str:
    """The section for bench/results.md (about 8 minutes with the defaults)."""
    del out_dir
    skipped = _skipped()
    if skipped is not None:
        return f"## QA on Dask (`streamlab qa --workers`)\n\n_{skipped}: skipped._\n"
    with tempfile.TemporaryDirectory(prefix="bench-qa-dask-") as tmp:
        return markdown(measure(Path(tmp), compare, long))


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.qa_dask")
    parser.add_argument("--compare", type=int, default=40, help="sessions played both ways")
    parser.add_argument("--long", type=int, default=200, help="sessions of the long cluster run")
    parser.add_argument("--out", type=Path, help="also write the section here")
    parser.add_argument("--json", type=Path, help="also write every run's summary.json here")
    args = parser.parse_args(argv)
    skipped = _skipped()
    if skipped is not None:
        print(f"bench.qa_dask: {skipped}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="bench-qa-dask-") as tmp:
        runs = measure(Path(tmp), args.compare, args.long)
    section = markdown(runs)
    print(section)
    if args.out:
        args.out.write_text(section)
    if args.json:
        summaries = [
            {"label": r.label, "command_wall_s": r.command_wall_s, **r.summary} for r in runs
        ]
        args.json.write_text(json.dumps(summaries, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
