"""`make bench` QA table: real sessions over the dev traces, fidelity, and the concurrency
limit of the harness on this machine. Skipped cleanly without ../shared/traces or nginx."""

from __future__ import annotations

import csv
import io
import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from qa.backend import ManagedBackend
from qa.runner import CONCURRENCY_LIMIT_DECODE, CONCURRENCY_LIMIT_NO_DECODE
from streamlab.cli import main as streamlab

ROOT = Path(__file__).resolve().parents[1]
SHARED_TRACES = ROOT.parent / "shared" / "traces"


def qa_run(out: Path, api: str, traces: Sequence[Path], *args: str) -> dict[str, Any]:
    """One `streamlab qa` run; its summary.json plus the per-session rows."""
    common = ["qa", "--backend", api, "--out", str(out), "--quiet", "--over-limit"]
    code = streamlab([*common, "--traces", *map(str, traces), *args])
    summary: dict[str, Any] = json.loads((out / "summary.json").read_text())
    summary["exit"] = code
    with (out / "sessions.csv").open() as handle:
        summary["rows"] = list(csv.DictReader(handle))
    return summary


def shaper_error_pct(rows: Sequence[dict[str, str]]) -> tuple[float, float]:
    errors = [
        (float(r["shaper_achieved_kbps"]) - float(r["shaper_requested_kbps"]))
        / float(r["shaper_requested_kbps"])
        * 100
        for r in rows
        if float(r["shaper_requested_kbps"] or 0) > 0
    ]
    if not errors:
        return float("nan"), float("nan")
    return statistics.fmean(errors), max(errors, key=abs)


def concurrency_sweep(
    api: str, trace: Path, out: Path, levels: Sequence[int], decode: bool
) -> list[dict[str, Any]]:
    """One wave of C sessions per level on a constant link: what changes with C is the
    harness's own load (start-up, shaper accuracy, CPU per session)."""
    results = []
    for c in levels:
        args = ["--sessions", str(c), "--concurrency", str(c)]
        if not decode:
            args.append("--no-decode")
        run = qa_run(out / f"{'decode' if decode else 'nodecode'}-c{c}", api, [trace], *args)
        rows = run["rows"]
        ttff = sorted(float(r["ttff_s"]) for r in rows if r["ttff_s"] not in ("", "nan"))
        mean_err, worst_err = shaper_error_pct(rows)
        results.append(
            {
                "C": c,
                "decode": decode,
                "failed": run["failed"],
                "ttff_p50_s": statistics.median(ttff) if ttff else float("nan"),
                "ttff_max_s": ttff[-1] if ttff else float("nan"),
                "shaper_err_mean_pct": mean_err,
                "shaper_err_worst_pct": worst_err,
                "cpu_per_session_s": run["cpu_per_session_s"],
                "cpu_share": run["cpu_s"] / run["wall_s"],
                "rebuffer_mean": statistics.fmean(float(r["rebuffer_ratio"] or 0) for r in rows),
            }
        )
        print(f"bench.qa: {results[-1]}", file=sys.stderr, flush=True)
    return results


def _constant_trace(folder: Path, kbps: float) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"constant-{kbps:.0f}.json"
    piece = {"duration_ms": 1000, "bandwidth_kbps": kbps, "latency_ms": 20}
    path.write_text(json.dumps([piece] * 60))
    return path


def dev_traces() -> list[Path]:
    """Four 4G and four broadband dev traces (fixed names: the table compares runs)."""
    names = [
        "sabre-4g/report_bus_0001.json",
        "sabre-4g/report_car_0002.json",
        "sabre-4g/report_foot_0002.json",
        "sabre-4g/report_tram_0001.json",
        "sabre-hd-fs/trace0000.json",
        "sabre-sd-fs/trace0002.json",
    ]
    fcc = sorted((SHARED_TRACES / "pensieve-fcc").iterdir())[:2]
    return [SHARED_TRACES / n for n in names] + fcc


def _pct(values: Sequence[float], q: float) -> float:
    return float(np.percentile(values, q, method="inverted_cdf")) if values else float("nan")


def run(out_dir: Path) -> str:
    """The QA section of bench/results.md (a few minutes)."""
    if not SHARED_TRACES.is_dir():
        return f"## QA harness\n\n_{SHARED_TRACES} is absent: skipped._\n"
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return "## QA harness\n\n_nginx is not installed: skipped._\n"
    with tempfile.TemporaryDirectory(prefix="bench-qa-") as tmp:
        work = Path(tmp)
        backend = ManagedBackend(work / "backend", 20, 720)
        api = backend.start()
        try:
            real = qa_run(
                work / "real",
                api,
                dev_traces(),
                *("--sessions", "8", "--concurrency", "4", "--fidelity"),
            )
            fidelity = (work / "real" / "fidelity.csv").read_text()
            trace = _constant_trace(work / "traces", 8000)
            sweep = concurrency_sweep(api, trace, work / "sweep", [2, 8, 10], decode=True)
            sweep += concurrency_sweep(api, trace, work / "sweep", [16, 24], decode=False)
        finally:
            backend.stop()
    return _markdown(real, fidelity, sweep)


def _markdown(real: dict[str, Any], fidelity_csv: str, sweep: list[dict[str, Any]]) -> str:
    rows = real["rows"]
    ttff = [float(r["ttff_s"]) for r in rows if r["ttff_s"] not in ("", "nan")]
    lines = [
        "## QA harness (`streamlab qa`)\n",
        "Real sessions: the player engine with libmpv decoding, default ABR (`streamlab`), "
        "through trace-shaped links to the bundled edge (3 demo titles, 20 s, 2 s segments, "
        "<= 720p), 4 at a time, over four 4G (sabre-4g) and four broadband (sabre-hd-fs, "
        "sabre-sd-fs, pensieve-fcc) dev traces.\n",
        "| sessions | failed | start-up (ttff) p50 | p99 | mean rebuffer | mean bitrate | CPU per session |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
        f"| {len(rows)} | {real['failed']} | {_pct(ttff, 50):.2f} s | {_pct(ttff, 99):.2f} s | "
        f"{statistics.fmean(float(r['rebuffer_ratio'] or 0) for r in rows) * 100:.3f} % | "
        f"{statistics.fmean(float(r['bitrate_kbps'] or 0) for r in rows):.0f} kbit/s | "
        f"{real['cpu_per_session_s']:.2f} s |\n",
        "Sim vs real (each session replayed in the simulator; 'trace' = the lab's default "
        "model, 'measured' = with `RequestModel`: served sizes and the measured "
        "per-request overhead). Targets: mean |dQoE_lin| <= 5 % of real, rebuffer <= 0.2 pp.\n",
        "| model | mean abs dQoE_lin (% of real) | mean abs d rebuffer (pp) | mean abs d start-up (s) | mean abs d bitrate (%) |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    fid = list(csv.DictReader(io.StringIO(fidelity_csv)))
    for model in dict.fromkeys(r["model"] for r in fid):
        mine = [r for r in fid if r["model"] == model]
        real_qoe = statistics.fmean(abs(float(r["real_qoe_lin"])) for r in mine)
        real_rate = statistics.fmean(float(r["real_bitrate_kbps"]) for r in mine)
        lines.append(
            f"| {model} | {statistics.fmean(abs(float(r['d_qoe_lin'])) for r in mine) / real_qoe * 100:.2f} | "
            f"{statistics.fmean(abs(float(r['d_rebuffer_pp'])) for r in mine):.3f} | "
            f"{statistics.fmean(abs(float(r['d_startup_s'])) for r in mine):.3f} | "
            f"{statistics.fmean(abs(float(r['d_bitrate_kbps'])) for r in mine) / real_rate * 100:.2f} |"
        )
    lines += [
        "",
        "Concurrency (one wave of C sessions on a constant 8 Mbit/s link, 20 s title): what "
        "grows with C is the harness's and the machine's load, not the network.\n",
        "| C | decode | ttff p50 | ttff max | shaper error mean / worst | mean rebuffer | CPU per session |",
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for r in sweep:
        lines.append(
            f"| {r['C']} | {'libmpv' if r['decode'] else 'no-decode'} | {r['ttff_p50_s']:.2f} s | "
            f"{r['ttff_max_s']:.2f} s | {r['shaper_err_mean_pct']:+.1f} % / "
            f"{r['shaper_err_worst_pct']:+.1f} % | {r['rebuffer_mean'] * 100:.2f} % | "
            f"{r['cpu_per_session_s']:.2f} s |"
        )
    lines.append(
        f"\nLimits enforced by `streamlab qa` (refused above, unless --over-limit): "
        f"{CONCURRENCY_LIMIT_DECODE} decoding, {CONCURRENCY_LIMIT_NO_DECODE} --no-decode sessions.\n"
    )
    return "\n".join(lines)


def sweep_main(argv: Sequence[str]) -> int:
    """python -m bench.qa sweep OUT: the concurrency table alone (for docs/qa.md)."""
    out = Path(argv[0])
    with tempfile.TemporaryDirectory(prefix="bench-qa-") as tmp:
        backend = ManagedBackend(Path(tmp) / "backend", 12, 720)
        api = backend.start()
        try:
            trace = _constant_trace(Path(tmp) / "traces", 8000)
            table = concurrency_sweep(api, trace, out, [1, 2, 4, 6, 8, 10], decode=True)
            table += concurrency_sweep(api, trace, out, [4, 8, 16, 24], decode=False)
        finally:
            backend.stop()
    (out / "sweep.json").write_text(json.dumps(table, indent=2))
    return 0


if __name__ == "__main__":
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        sys.exit("bench.qa: nginx is not installed")
    sys.exit(sweep_main(sys.argv[2:]) if sys.argv[1:2] == ["sweep"] else 0)
