"""The comparison report: a summary table, CDFs, the trade-off plot and median timelines.

Written twice from the same parts: `report.md` (for a repository or a terminal) and a
self-contained-looking `report.html` (figures as files beside it under `figures/`).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from simulator.plots import REBUFFER_TARGET, Timeline, cdf_plot, timeline_plot, tradeoff_scatter


@dataclass(frozen=True)
class ReportPaths:
    markdown: Path
    html: Path
    figures: list[Path]


@dataclass(frozen=True)
class _Section:
    title: str
    note: str
    figure: str | None = None  # file stem under figures/
    table: pd.DataFrame | None = None


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per trace set x algorithm: the figures a researcher compares first."""
    rows = []
    algorithms = list(dict.fromkeys(results.abr))
    for trace_set in sorted(results.trace_set.unique()):
        for name in algorithms:
            group = results[(results.trace_set == trace_set) & (results.abr == name)]
            if group.empty:
                continue
            row = {
                "set": trace_set,
                "abr": name,
                "sessions": len(group),
                "bitrate_kbps": group.bitrate_kbps.mean(),
                "rebuffer_%": group.rebuffer_ratio.mean() * 100.0,
                "rebuffer_p95_%": float(np.percentile(group.rebuffer_ratio, 95)) * 100.0,
                "over_0.5%_%": (group.rebuffer_ratio > REBUFFER_TARGET).mean() * 100.0,
                "startup_s": group.startup_s.mean(),
                "startup_p99_s": float(np.percentile(group.startup_s, 99)),
                "switches": group.switches.mean(),
                "qoe_lin": group.qoe_lin.mean(),
            }
            if "optimal_qoe_lin" in group:
                row["%_of_optimum"] = group.qoe_lin.mean() / group.optimal_qoe_lin.mean() * 100.0
            rows.append(row)
    return pd.DataFrame(rows)


def median_sessions(results: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(abr, trace_set, trace) of each algorithm's median session by QoE_lin."""
    picks = []
    for name in dict.fromkeys(results.abr):
        group = results[results.abr == name].sort_values(["qoe_lin", "trace_set", "trace"])
        row = group.iloc[(len(group) - 1) // 2]
        picks.append((str(name), str(row.trace_set), str(row.trace)))
    return picks


def _save(fig: Figure, folder: Path, stem: str) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=110)
    fig.savefig(paths[1])
    return paths


def _format(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for column in out.columns:
        if out[column].dtype.kind == "f":
            out[column] = out[column].map(lambda v: f"{v:.3g}" if abs(v) < 1000 else f"{v:.0f}")
    return out


def _markdown_table(df: pd.DataFrame) -> str:
    df = _format(df)
    lines = ["| " + " | ".join(map(str, df.columns)) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(map(str, row)) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def write_report(
    results: pd.DataFrame,
    out_dir: Path,
    *,
    timelines: Sequence[Timeline] = (),
    title: str = "streamlab compare",
    command: str = "",
) -> ReportPaths:
    figures_dir = out_dir / "figures"
    written: list[Path] = []
    sections = [
        _Section(
            "Summary per trace set and algorithm",
            "Means over sessions. rebuffer_% is stall time over play + stall time; over_0.5%_% "
            "is the share of sessions that miss the 0.5 % target. QoE_lin is Pensieve's, per segment.",
            table=summary_table(results),
        )
    ]
    plots: list[tuple[str, str, str, Figure]] = [
        (
            "QoE_lin distribution",
            "Each line is the share of sessions (y) at or below a QoE (x): further right is better.",
            "cdf_qoe_lin",
            cdf_plot(results, "qoe_lin", xlabel="QoE_lin per segment"),
        ),
        (
            "Rebuffer ratio distribution",
            "Further up-left is better; the dotted line is the 0.5 % target.",
            "cdf_rebuffer",
            cdf_plot(results, "rebuffer_ratio", xlabel="rebuffer ratio (%)", percent=True),
        ),
        (
            "Bitrate against rebuffering",
            "One point per algorithm and trace set: right is sharper, down is smoother.",
            "tradeoff",
            tradeoff_scatter(results),
        ),
    ]
    for timeline in timelines:
        stem = f"timeline_{_slug(timeline.abr)}"
        plots.append(
            (
                f"Median session of {timeline.abr}",
                "Top: the link and each download's measured throughput; middle: the bitrate "
                "requested; bottom: the buffer, stalls shaded red.",
                stem,
                timeline_plot(timeline),
            )
        )
    for heading, note, stem, fig in plots:
        written += _save(fig, figures_dir, stem)
        sections.append(_Section(heading, note, figure=stem))

    sets = ", ".join(sorted(results.trace_set.unique()))
    algorithms = ", ".join(dict.fromkeys(results.abr))
    header = f"{len(results)} sessions; trace sets: {sets}; algorithms: {algorithms}."
    markdown = out_dir / "report.md"
    markdown.write_text(_render_markdown(title, command, header, sections))
    page = out_dir / "report.html"
    page.write_text(_render_html(title, command, header, sections))
    return ReportPaths(markdown, page, written)


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in text)


def _render_markdown(title: str, command: str, header: str, sections: list[_Section]) -> str:
    parts = [f"# {title}", ""]
    if command:
        parts += [f"`{command}`", ""]
    parts += [header, ""]
    for s in sections:
        parts += [f"## {s.title}", "", s.note, ""]
        if s.table is not None:
            parts += [_markdown_table(s.table), ""]
        if s.figure:
            parts += [f"![{s.title}](figures/{s.figure}.png)", ""]
    return "\n".join(parts)


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.6em; } h2 { font-size: 1.2em; margin-top: 2em; }
code { background: #f3f3f3; padding: 0.1em 0.3em; }
p.note { color: #555; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; }
th { background: #f5f5f5; } td:first-child, td:nth-child(2) { text-align: left; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def _render_html(title: str, command: str, header: str, sections: list[_Section]) -> str:
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if command:
        parts.append(f"<p><code>{html.escape(command)}</code></p>")
    parts.append(f"<p>{html.escape(header)}</p>")
    for s in sections:
        parts.append(f"<h2>{html.escape(s.title)}</h2><p class='note'>{html.escape(s.note)}</p>")
        if s.table is not None:
            parts.append(_format(s.table).to_html(index=False, border=0))
        if s.figure:
            parts.append(
                f"<img src='figures/{s.figure}.png' alt='{html.escape(s.title)}'>"
                f"<p><a href='figures/{s.figure}.svg'>SVG</a></p>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)
