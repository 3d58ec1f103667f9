"""`make bench` QA table: real sessions over the dev traces, fidelity, and the concurrency
limit of the harness on this machine. Skipped cleanly without ../shared/traces or nginx."""

from __future__ import annotations

import json
import shutil
import statistics
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qa.backend import ManagedBackend
from streamlab.cli import main as streamlab

ROOT = Path(__file__).resolve().parents[1]
SHARED_TRACES = ROOT.parent / "shared" / "traces"


def qa_run(out: Path, api: str, traces: Sequence[Path], *args: str) -> dict[str, Any]:
    """One `streamlab qa` run; its summary.json plus the per-session rows."""
    import csv

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
