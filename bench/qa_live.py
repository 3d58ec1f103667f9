"""`make bench` live QA table: `streamlab qa --live` on the backend's test-pattern channel, 8
decoded sessions over the dev 4G and broadband traces with `--fidelity`: latency, start-up and
rebuffer of real sessions, and how far the lab's live mode replaying the same sessions is from
them (goal: mean |d latency| <= 0.5 s). Skipped cleanly without ../shared/traces or nginx.

    python -m bench.qa_live            # prints the Markdown section (about 3 minutes)
"""

from __future__ import annotations

import shutil
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.qa import SHARED_TRACES, _pct, dev_traces, qa_run
from qa.backend import ManagedBackend

CHANNEL = "clock"  # the demo catalog's channel
SESSIONS = 8
CONCURRENCY = 4
LIVE_SECONDS = 60
TARGET_LATENCY_S = 6.0  # the default: three 2 s segments
HEADING = "## Live QA (bench/qa_live.py)"


def run(out_dir: Path) -> str:
    del out_dir  # everything it writes is temporary
    if not SHARED_TRACES.is_dir():
        return f"{HEADING}\n\n_{SHARED_TRACES} is absent: skipped._\n"
    if shutil.which("nginx") is None and not Path("/usr/sbin/nginx").exists():
        return f"{HEADING}\n\n_nginx is not installed: skipped._\n"
    with tempfile.TemporaryDirectory(prefix="bench-qa-live-") as tmp:
        work = Path(tmp)
        # The window outlasts a session, so --fidelity can size every segment it played.
        backend = ManagedBackend(work / "backend", 12, 360, live_dvr_seconds=LIVE_SECONDS + 30)
        api = backend.start()
        try:
            real = qa_run(
                work / "live",
                api,
                dev_traces(),
                *("--live", CHANNEL, "--live-seconds", str(LIVE_SECONDS)),
                *("--sessions", str(SESSIONS), "--concurrency", str(CONCURRENCY), "--fidelity"),
            )
        finally:
            backend.stop()
    return _markdown(real)


def _floats(rows: list[dict[str, str]], column: str) -> list[float]:
    return [float(r[column]) for r in rows if r[column] not in ("", "nan")]


def _worst(rows: list[dict[str, str]]) -> str:
    played = [r for r in rows if r["latency_p95_s"] not in ("", "nan")]
    if not played:
        return "No session reported a latency."
    worst = max(played, key=lambda r: float(r["latency_p95_s"]))
    return (
        f"Furthest behind: {worst['trace_set']}/{worst['trace']}, latency p95 "
        f"{float(worst['latency_p95_s']):.2f} s, rebuffer {float(worst['rebuffer_ratio']) * 100:.2f} %."
    )


def _markdown(real: dict[str, Any]) -> str:
    rows = real["rows"]
    means, p95s = _floats(rows, "latency_mean_s"), _floats(rows, "latency_p95_s")
    ttff, rebuffer = _floats(rows, "ttff_s"), _floats(rows, "rebuffer_ratio")
    lines = [
        HEADING,
        "",
        f"`streamlab qa --live {CHANNEL} --live-seconds {LIVE_SECONDS} --sessions {SESSIONS} "
        f"--concurrency {CONCURRENCY} --fidelity` over 6 dev 4G/broadband and 2 FCC traces "
        f"(one run; target latency {TARGET_LATENCY_S:g} s, 2 s segments, decoded).",
        "",
        "| sessions | failed | latency p50 of means | p95 of p95s | start-up p99 | mean rebuffer "
        "| gate |",
        "|---|---|---|---|---|---|---|",
        f"| {len(rows)} | {real['failed']} | {statistics.median(means):.2f} s "
        f"| {_pct(p95s, 95):.2f} s | {_pct(ttff, 99):.2f} s "
        f"| {statistics.fmean(rebuffer) * 100:.2f} % "
        f"| {'passed' if real['exit'] == 0 else 'failed'} |",
        "",
        _worst(rows),
        "",
        "Sim vs real (each session replayed by `simulate_live` with its trace and the segment "
        "sizes the edge served):",
        "",
        "| simulator model | mean \\|d latency\\| | \\|d latency p95\\| | \\|d rebuffer\\| "
        "| \\|d start-up\\| | goal (<= 0.5 s) |",
        "|---|---|---|---|---|---|",
    ]
    for f in real.get("fidelity", []):
        lines.append(
            f"| {f['model']} | {f['latency_abs_s']:.2f} s | {f['latency_p95_abs_s']:.2f} s "
            f"| {f['rebuffer_abs_pp']:.2f} pp | {f['startup_abs_s']:.2f} s "
            f"| {'met' if f['latency_abs_s'] <= 0.5 else 'MISSED'} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(run(Path.cwd()))
    sys.exit(0)
