"""The run's outputs: `sessions.csv` (one row per session) and `report.html` with figures.

The CSV starts with the lab's columns (`simulator.compare.RESULT_COLUMNS`, then its extras)
so the lab's scripts read QA runs too, then the real-session columns, then the lab's columns
added since (appended, so older readers' layouts stay a prefix).
"""

from __future__ import annotations

import csv
import html
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from qa.faults import STALL_WINDOW_S, FaultLog, FaultRun, errors_during, stall_charged
from qa.fidelity import FidelityRow
from qa.fidelity import summarize as summarize_fidelity
from qa.live_fidelity import TARGET_LATENCY_ABS_S, LiveFidelityRow
from qa.live_fidelity import summarize as summarize_live_fidelity
from qa.placement import HostLoad, Placement
from qa.progress import ProgressCheck
from qa.session import SessionOutcome
from qa.targets import TargetCheck, Targets
from simulator.compare import EXTRA_COLUMNS, RESULT_COLUMNS, STARTUP_COLUMNS
from simulator.plots import Timeline, timeline_plot

QA_COLUMNS = (
    "session",
    "video_id",
    "ttff_s",
    "errors",
    "faults",
    "shaper_achieved_kbps",
    "shaper_requested_kbps",
    "decoded",
    "progress_reports",
    "progress_replayed",
    "progress_pending",
    "failure",
)
COLUMNS = (*RESULT_COLUMNS, *EXTRA_COLUMNS, *QA_COLUMNS, *STARTUP_COLUMNS)
# `qa --live` runs add the lab's live columns (`simulator.compare.LIVE_COLUMNS` without
# qoe_live) after all of those, so every column above keeps its place.
LIVE_QA_COLUMNS = ("latency_mean_s", "latency_p95_s", "rate_change_s", "rate_changes")
WORST = 5


@dataclass(frozen=True)
class Section:
    title: str
    note: str  # how to read it
    rows: Sequence[Mapping[str, Any]] = ()
    figure: str | None = None  # file stem under figures/
    lines: Sequence[str] = ()  # paragraphs
    more_rows: Sequence[Mapping[str, Any]] = ()  # a second table, after the first


@dataclass
class ReportInput:
    outcomes: Sequence[SessionOutcome]
    checks: Sequence[TargetCheck]
    targets: Targets
    header: list[tuple[str, str]]
    faults_by_session: Mapping[int, Sequence[str]] = field(default_factory=dict)
    extra_sections: Sequence[Section] = ()
    latency_limit_s: float | None = None  # a live run: the latency target in force


def session_row(outcome: SessionOutcome, faults: Sequence[str] = ()) -> dict[str, Any]:
    spec = outcome.spec
    row: dict[str, Any] = {"trace_set": spec.trace.set_name, "trace": spec.trace.name}
    row["abr"] = spec.abr
    if outcome.summary is not None:
        row.update(outcome.summary.as_dict())
    row["profile"] = "default"
    row["session"] = spec.index
    row["video_id"] = spec.video_id
    row["ttff_s"] = outcome.ttff_s
    row["errors"] = len(outcome.errors)
    row["faults"] = ";".join(faults)
    row["shaper_achieved_kbps"] = outcome.shaped.achieved_kbps
    row["shaper_requested_kbps"] = outcome.shaped.requested_kbps
    row["decoded"] = outcome.decoded
    row["progress_reports"] = len(outcome.progress.made)
    row["progress_replayed"] = outcome.progress.replayed
    row["progress_pending"] = len(outcome.progress.pending)
    row["failure"] = outcome.failure or ""
    metrics = outcome.metrics
    if outcome.spec.live_seconds is not None and metrics is not None:
        row["latency_mean_s"] = _nan_if_none(metrics.live_latency_mean_s)
        row["latency_p95_s"] = _nan_if_none(metrics.live_latency_p95_s)
        row["rate_change_s"] = metrics.rate_change_s
        row["rate_changes"] = metrics.rate_changes
    return row


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else value


def write_csv(path: Path, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def worst_sessions(outcomes: Sequence[SessionOutcome], n: int = WORST) -> list[SessionOutcome]:
    """Failed sessions first, then by QoE_lin (rebuffering and low bitrate both lower it)."""

    def badness(o: SessionOutcome) -> tuple[int, float]:
        return (0 if o.failed else 1, o.summary.qoe_lin if o.summary else -math.inf)

    return sorted(outcomes, key=badness)[:n]


def write_report(out: Path, data: ReportInput) -> Path:
    figures = out / "figures"
    figures.mkdir(parents=True, exist_ok=True)
    ok = [o for o in data.outcomes if not o.failed and o.summary is not None]
    ttff = np.array([o.ttff_s for o in ok], dtype=float)
    rebuffer = np.array([o.summary.rebuffer_ratio for o in ok if o.summary], dtype=float)
    sections = [
        Section(
            "Targets",
            "Each target of the targets file against this run; the gate passes (exit 0) only "
            "when every row is met. Failed sessions count only in sessions_failed_max.",
            rows=[
                {
                    "target": c.name,
                    "what": c.description,
                    "limit": _fmt(c.limit),
                    "measured": _fmt(c.measured),
                    "result": "met" if c.met else "MISSED",
                }
                for c in data.checks
            ],
        )
    ]
    _save(
        _cdf(ttff, "time to first frame (s)", data.targets.startup_p99_s, "p99 target", p99=True),
        figures / "startup_cdf.png",
    )
    sections.append(
        Section(
            "Start-up",
            "Empirical CDF of the time from the manifest request to the first decoded frame "
            "(to playback start with --no-decode). The solid line is this run's p99, the "
            "dotted one the target.",
            figure="startup_cdf",
        )
    )
    _save(
        _cdf(rebuffer * 100, "rebuffer ratio (%)", data.targets.rebuffer_ratio_max * 100, "target"),
        figures / "rebuffer_cdf.png",
    )
    sections.append(
        Section(
            "Rebuffering",
            "Empirical CDF of each session's rebuffer ratio (stall time over played plus "
            "stalled time); the dotted line is the mean-rebuffer target.",
            figure="rebuffer_cdf",
        )
    )
    if data.latency_limit_s is not None:
        latency = np.array(
            [_nan_if_none(o.metrics.live_latency_p95_s) for o in ok if o.metrics], dtype=float
        )
        _save(
            _cdf(latency, "live latency p95 per session (s)", data.latency_limit_s, "target"),
            figures / "latency_cdf.png",
        )
        sections.append(
            Section(
                "Live latency",
                "Empirical CDF of each session's latency p95: UTC now minus when the media at "
                "the playhead was live, time-weighted while playing. The dotted line is the "
                "latency_p95_s target, checked against the p95 of these values.",
                figure="latency_cdf",
            )
        )
    for rank, outcome in enumerate(worst_sessions(ok), start=1):
        assert outcome.summary is not None and outcome.metrics is not None
        assert outcome.presentation is not None
        spec = outcome.spec
        timeline = Timeline(
            abr=spec.abr,
            trace_set=spec.trace.set_name,
            trace=spec.trace,
            downloads=outcome.metrics.downloads,
            bitrates_kbps=list(outcome.presentation.bitrates_kbps),
            summary={k: float(v) for k, v in outcome.summary.as_dict().items()},
            why="worst",
        )
        stem = f"worst_{rank}"
        _save(timeline_plot(timeline), figures / f"{stem}.png")
        sections.append(
            Section(
                f"Worst session {rank}: session {spec.index} ({spec.video_id})",
                "Link (the trace), measured throughput per download, the bitrate chosen and the "
                "buffer over the session's time; stalls shaded.",
                figure=stem,
            )
        )
    failed = [o for o in data.outcomes if o.failed]
    if failed:
        sections.append(
            Section(
                "Failed sessions",
                "Sessions that did not play to the end, with the reason.",
                rows=[
                    {"session": o.spec.index, "trace": o.spec.trace.name, "reason": o.failure}
                    for o in failed
                ],
            )
        )
    sections.append(_shaper_section(data.outcomes))
    sections.extend(data.extra_sections)
    sections.append(
        Section(
            "Sessions",
            "One row per session; the same as sessions.csv.",
            rows=[_table_row(o, data) for o in data.outcomes],
        )
    )
    path = out / "report.html"
    path.write_text(_render(data.header, sections))
    return path


def _table_row(o: SessionOutcome, data: ReportInput) -> dict[str, Any]:
    row: dict[str, Any] = {
        "session": o.spec.index,
        "trace": f"{o.spec.trace.set_name}/{o.spec.trace.name}",
        "ttff s": _fmt(o.ttff_s),
        "rebuffer %": _fmt(o.summary.rebuffer_ratio * 100) if o.summary else "",
        "bitrate kbit/s": _fmt(o.summary.bitrate_kbps) if o.summary else "",
        "QoE_lin": _fmt(o.summary.qoe_lin) if o.summary else "",
    }
    if data.latency_limit_s is not None:
        m = o.metrics
        row["latency mean / p95 s"] = (
            f"{_fmt(_nan_if_none(m.live_latency_mean_s))} / {_fmt(_nan_if_none(m.live_latency_p95_s))}"
            if m
            else ""
        )
    row["errors"] = len(o.errors)
    row["faults"] = ", ".join(data.faults_by_session.get(o.spec.index, ()))
    row["failure"] = o.failure or ""
    return row


def _shaper_section(outcomes: Sequence[SessionOutcome]) -> Section:
    rows = []
    errors = []
    for o in outcomes:
        s = o.shaped
        if s.seconds <= 0:
            continue
        error = (s.achieved_kbps - s.requested_kbps) / s.requested_kbps * 100
        errors.append(error)
        rows.append(
            {
                "session": o.spec.index,
                "trace": o.spec.trace.name,
                "requested kbit/s": _fmt(s.requested_kbps),
                "achieved kbit/s": _fmt(s.achieved_kbps),
                "error %": f"{error:+.2f}",
                "MB sent": f"{s.bytes_sent / 1e6:.2f}",
            }
        )
    summary = (
        f"Achieved vs requested over all sessions: mean {np.mean(errors):+.2f} %, "
        f"worst {max(errors, key=abs):+.2f} %."
        if errors
        else "No shaped transfers."
    )
    return Section(
        "Shaper accuracy",
        "What each session's trace-shaped link delivered while it had data to send, against "
        "what the trace allowed over the same time. Small segments that fit the 5 ms burst "
        "read slightly above the trace.",
        rows=rows,
        lines=[summary],
    )


def _cdf(
    values: np.ndarray, xlabel: str, target: float, target_label: str, p99: bool = False
) -> Figure:
    fig = Figure(figsize=(6.4, 3.6), layout="constrained")
    ax = fig.subplots()
    finite = np.sort(values[np.isfinite(values)])
    if len(finite):
        ys = np.arange(1, len(finite) + 1) / len(finite)
        # Carried on to the right edge at 1.0: when every session is at 0 (no stalls at all)
        # the curve would otherwise be a vertical line hidden in the y axis.
        right = max(float(finite[-1]), target) * 1.05
        xs = np.concatenate(([finite[0]], finite, [right]))
        ax.step(xs, np.concatenate(([0.0], ys, [1.0])), where="post")
        if p99:
            measured = float(np.percentile(finite, 99, method="inverted_cdf"))
            ax.axvline(measured, color="C1", linewidth=1.2, label=f"p99 {measured:.2f}")
    ax.axvline(
        target, color="black", linestyle=":", linewidth=1, label=f"{target_label} {target:g}"
    )
    ax.set_xlabel(xlabel)
    ax.set_ylabel("share of sessions ≤ x")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    return fig


def _save(fig: Figure, path: Path) -> None:
    fig.savefig(path, dpi=110)


def _fmt(value: float) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    return f"{value:.4g}"


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.25em 0.7em; text-align: right; }
th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.note { color: #555; font-size: 0.9em; }
dl.header dt { font-weight: bold; float: left; clear: left; width: 11em; }
dl.header dd { margin-left: 12em; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def _render(header: Sequence[tuple[str, str]], sections: Sequence[Section]) -> str:
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>streamlab qa</title><style>{STYLE}</style></head><body>",
        "<h1>streamlab qa</h1><dl class='header'>",
        *(f"<dt>{e(k)}</dt><dd>{e(v)}</dd>" for k, v in header),
        "</dl>",
    ]
    for s in sections:
        parts.append(f"<h2>{e(s.title)}</h2><p class='note'>{e(s.note)}</p>")
        parts += [f"<p>{e(line)}</p>" for line in s.lines]
        for table in (s.rows, s.more_rows):
            if not table:
                continue
            keys = list(table[0])
            parts.append("<table><tr>" + "".join(f"<th>{e(k)}</th>" for k in keys) + "</tr>")
            for row in table:
                parts.append(
                    "<tr>" + "".join(f"<td>{e(str(row.get(k, '')))}</td>" for k in keys) + "</tr>"
                )
            parts.append("</table>")
        if s.figure:
            parts.append(
                f"<p><img src='figures/{s.figure}.png' alt='{e(s.title, quote=True)}'></p>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)


def progress_section(checks: Sequence[ProgressCheck]) -> Section:
    return Section(
        "Progress reports",
        "Sessions report their position through the player's ProgressSync, each with its own "
        "on-disk journal, every 2 s and at the end; a report the API does not answer within "
        "2 s stays in the journal and is sent before the next. Per title: the offset the "
        "server kept against the newest report delivered, and the reports replayed from the "
        "journals; a final report never delivered fails its session.",
        rows=[
            {
                "title": c.video_id,
                "sessions": c.sessions,
                "server kept (s)": _fmt(c.stored_offset_s),
                "newest report (s)": _fmt(c.expected_offset_s),
                "replayed from journals": c.replayed,
                "final reports lost": ", ".join(map(str, c.finals_lost)) or "none",
                "result": "kept" if c.kept else "LOST",
            }
            for c in checks
        ],
    )


def faults_section(run: FaultRun, outcomes: Sequence[SessionOutcome]) -> Section:
    start = min((o.started_at for o in outcomes), default=0.0)
    rows = []
    for event in sorted(run.log.events, key=lambda e: e.started):
        stall, hit = stall_charged(event, outcomes)
        errors = errors_during(event, outcomes)
        rows.append(
            {
                "fault": event.kind,
                "session": "all in flight" if event.session is None else event.session,
                "at (s)": f"{event.started - start:.1f}",
                "lasted (s)": f"{event.ended - event.started:.1f}",
                "what": event.detail,
                "stall (s)": f"{stall:.2f}",
                "sessions stalled": hit,
                "failed requests (retried)": "; ".join(errors[:4])
                + (" …" if len(errors) > 4 else ""),
            }
        )
    lines = (
        [f"Skipped (they need the backend qa starts): {', '.join(run.skipped)}."]
        if run.skipped
        else []
    )
    completed = sum(not o.failed for o in outcomes)
    lines.append(f"{completed} of {len(outcomes)} sessions completed.")
    return Section(
        "Faults",
        f"Each injected fault, when it acted, and the stall it caused: stall time within "
        f"{STALL_WINDOW_S:g} s after it, in its session (or in every session for a process "
        "fault), and the requests that failed meanwhile, which the engine retried with "
        "back-off. The log is faults.jsonl.",
        rows=rows,
        lines=lines,
    )


def write_fault_log(path: Path, log: FaultLog) -> None:
    with path.open("w") as handle:
        for event in log.events:
            handle.write(json.dumps(asdict(event)) + "\n")


def fidelity_section(rows: Sequence[FidelityRow], overhead_s: float) -> Section:
    summary = [
        {
            "simulator model": f.model,
            "sessions": f.sessions,
            "mean |dQoE_lin| % of real": f"{f.qoe_abs_pct:.2f}",
            "mean |d rebuffer| pp": f"{f.rebuffer_abs_pp:.3f}",
            "mean |d start-up| s": f"{f.startup_abs_s:.3f}",
            "mean |d bitrate| %": f"{f.bitrate_abs_pct:.2f}",
            "target (5 %, 0.2 pp)": "met" if f.met else "MISSED",
        }
        for f in summarize_fidelity(rows)
    ]
    per_session = [
        {k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in r.as_dict().items()}
        for r in rows
    ]
    return Section(
        "Sim vs real fidelity",
        "Each real session replayed in the simulator with its trace (aligned to the session's "
        "start), title and ABR. Model 'trace': the lab's default, sizes as the manifest "
        "announces them. Model 'measured': the bytes the edge serves, init segments as their "
        f"own requests, and {overhead_s * 1000:.1f} ms per request measured on these sessions "
        "(first byte minus the trace's latency). Start-up here is the session's (from the "
        "manifest loaded), as in the lab; fidelity.csv has every row.",
        rows=summary,
        more_rows=per_session,
    )


def live_fidelity_section(rows: Sequence[LiveFidelityRow], overhead_s: float) -> Section:
    summary = [
        {
            "simulator model": f.model,
            "sessions": f.sessions,
            "mean |d latency| s": f"{f.latency_abs_s:.3f}",
            "mean |d latency p95| s": f"{f.latency_p95_abs_s:.3f}",
            "mean |d rebuffer| pp": f"{f.rebuffer_abs_pp:.3f}",
            "mean |d start-up| s": f"{f.startup_abs_s:.3f}",
            "mean |d bitrate| %": f"{f.bitrate_abs_pct:.2f}",
            f"goal (|d latency| <= {TARGET_LATENCY_ABS_S:g} s)": "met" if f.met else "MISSED",
        }
        for f in summarize_live_fidelity(rows)
    ]
    return Section(
        "Sim vs real fidelity (live)",
        "Each real session replayed in the lab's live mode (simulate_live) with its trace "
        "(aligned to the session's start), the channel's ladder and the segment sizes the edge "
        "served, joining at the session's first segment and leaving after the same time. "
        "|d latency| is |sim - real| of each session's mean latency. Model 'trace': the link "
        "is the trace alone. Model 'measured': "
        f"{overhead_s * 1000:.1f} ms per request measured on these sessions (first byte minus "
        "the trace's latency), and each rendition's init segment as its own round trip. "
        "fidelity.csv has every row.",
        rows=summary,
        more_rows=[
            {k: (f"{v:.3f}" if isinstance(v, float) else v) for k, v in r.as_dict().items()}
            for r in rows
        ],
        lines=[] if rows else ["No session played long enough to compare."],
    )


def placement_section(
    mode: str, loads: Sequence[HostLoad], placements: Sequence[Placement]
) -> Section:
    return Section(
        "Where the sessions ran",
        f"{mode}. Per host: its workers, its sessions, and the most that played at once "
        "(from each session's start and end on that host's clock) against the limit that "
        "should hold it; summary.json lists every session's host and worker.",
        rows=[
            {
                "host": load.host,
                "workers": load.workers,
                "sessions": load.sessions,
                "peak at once": load.peak,
                "limit": load.limit,
                "held": "yes" if load.peak <= load.limit else "NO",
            }
            for load in loads
        ],
        lines=[f"Workers: {', '.join(sorted({p.worker for p in placements}))}."],
    )
