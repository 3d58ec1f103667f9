"""The comparison report: a summary table, the gap to the optimum by QoE term (with
`--optimal`), CDFs, the trade-off plot and median or worst timelines.

Written twice from the same sections: `report.md` (for a repository or a terminal) and
`report.html` (one page with its CSS inline). Both reference the figures as relative files
under `figures/`, each saved as PNG (to view) and SVG (to zoom or put in a paper).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure

from abr.qoe import REBUFFER_PENALTY_LIN
from simulator.compare import OPTIMUM_COLUMNS
from simulator.plots import (
    REBUFFER_TARGET,
    Timeline,
    cdf_plot,
    first_seen,
    timeline_plot,
    tradeoff_scatter,
)


@dataclass(frozen=True)
class ReportPaths:
    markdown: Path
    html: Path
    figures: list[Path]


@dataclass(frozen=True)
class _Section:
    title: str
    note: str  # "how to read this": one or two sentences
    figure: str | None = None  # file stem under figures/
    table: pd.DataFrame | None = None


# Headings of summary_table's and gap_terms' columns (the CLI prints the summary too):
# name -> (report heading, is a percentage).
COLUMN_HEADINGS: dict[str, tuple[str, bool]] = {
    "set": ("trace set", False),
    "abr": ("algorithm", False),
    "sessions": ("sessions", False),
    "bitrate_kbps": ("mean bitrate (kbit/s)", False),
    "rebuffer_%": ("mean rebuffer", True),
    "rebuffer_p95_%": ("p95 rebuffer", True),
    "over_0.5%_%": ("sessions > 0.5 % rebuffer", True),
    "startup_s": ("mean start-up (s)", False),
    "startup_p99_s": ("p99 start-up (s)", False),
    "switches": ("mean switches", False),
    "qoe_lin": ("mean QoE_lin", False),
    "qoe_lin_startup": ("mean QoE_lin, start-up as stall", False),
    "latency_mean_s": ("mean live latency (s)", False),
    "latency_p95_s": ("mean of p95 live latency (s)", False),
    "rate_change_s": ("mean time off 1x (s)", False),
    "qoe_live": ("mean live QoE (NQoE)", False),
    "gap_to_optimum": ("QoE_lin below optimum", False),
    "gap_to_live_bound": ("NQoE below the rate-1 live bound", False),
    "bound_latency_s": ("the bound's mean latency (s)", False),
    "bound_rebuffer_s": ("the bound's stalls (s)", False),
    "%_of_optimum": ("QoE_lin % of optimum", True),
    "gap_to_optimum_startup": ("QoE_lin, start-up as stall, below its optimum", False),
    "gap_from_bitrate": ("of which bitrate", False),
    "gap_from_stalls": ("of which stalls", False),
    "gap_from_switching": ("of which switching", False),
}
# Live runs only: means per trace set x algorithm of the CSV's live columns.
LIVE_SUMMARY_COLUMNS = ("latency_mean_s", "latency_p95_s", "rate_change_s", "qoe_live")
# QoE_lin with start-up as stall time and its gap to that metric's optimum, where the results
# have them.
STARTUP_SUMMARY_COLUMNS = ("qoe_lin_startup", "gap_to_optimum_startup")
# Live runs with `--optimal`: the live bound (`simulator.live_optimal`) beside the live columns.
LIVE_BOUND_COLUMNS = ("gap_to_live_bound", "bound_latency_s", "bound_rebuffer_s")
# gap_terms' split of the gap: a table of its own, not summary_table's.
GAP_TERM_COLUMNS = ("gap_from_bitrate", "gap_from_stalls", "gap_from_switching")


def summary_table(results: pd.DataFrame) -> pd.DataFrame:
    """One row per trace set x algorithm: the numbers a researcher compares first.

    Sets are sorted by name; algorithms keep the order they first appear in `results` (the
    order the user listed them). Percent columns are in percent (0.5, not 0.005).
    Percentiles interpolate linearly, as numpy's default does.
    """
    optimum_columns = ("gap_to_optimum", "%_of_optimum")
    leave_out = (
        *optimum_columns,
        *GAP_TERM_COLUMNS,
        *LIVE_SUMMARY_COLUMNS,
        *STARTUP_SUMMARY_COLUMNS,
        *LIVE_BOUND_COLUMNS,
    )
    columns = [c for c in COLUMN_HEADINGS if c not in leave_out]
    with_optimum = "optimal_qoe_lin" in results.columns
    live = "latency_p95_s" in results.columns
    # Results written before the start-up metric existed have neither column.
    startup = "qoe_lin_startup" in results.columns
    startup_optimum = "optimal_qoe_lin_startup" in results.columns
    if startup:
        columns.insert(columns.index("qoe_lin") + 1, "qoe_lin_startup")
    if live:
        columns.extend(LIVE_SUMMARY_COLUMNS)
    with_bound = "optimal_qoe_live" in results.columns
    if with_bound:
        columns.extend(LIVE_BOUND_COLUMNS)
    if with_optimum:
        columns.extend(optimum_columns)
    if startup and startup_optimum:
        columns.append("gap_to_optimum_startup")
    rows = [
        _summary_row(trace_set, name, group, with_optimum, live, startup, startup_optimum)
        for trace_set in sorted(first_seen(results.trace_set))
        for name in first_seen(results.abr)
        if not (group := _cell(results, trace_set, name)).empty
    ]
    return pd.DataFrame(rows, columns=columns)


def _cell(results: pd.DataFrame, trace_set: str, name: str) -> pd.DataFrame:
    mask = (results.trace_set.astype(str) == trace_set) & (results.abr.astype(str) == name)
    return results[mask]


def _summary_row(
    trace_set: str,
    name: str,
    group: pd.DataFrame,
    with_optimum: bool,
    live: bool,
    startup: bool,
    startup_optimum: bool,
) -> dict[str, object]:
    rebuffer = group.rebuffer_ratio.astype(float)
    row: dict[str, object] = {
        "set": trace_set,
        "abr": name,
        "sessions": len(group),
        "bitrate_kbps": float(group.bitrate_kbps.mean()),
        "rebuffer_%": float(rebuffer.mean()) * 100.0,
        "rebuffer_p95_%": float(rebuffer.quantile(0.95)) * 100.0,
        "over_0.5%_%": float((rebuffer > REBUFFER_TARGET).mean()) * 100.0,
        "startup_s": float(group.startup_s.mean()),
        "startup_p99_s": float(group.startup_s.astype(float).quantile(0.99)),
        "switches": float(group.switches.mean()),
        "qoe_lin": float(group.qoe_lin.mean()),
    }
    if startup:
        achieved = float(group.qoe_lin_startup.astype(float).mean())
        row["qoe_lin_startup"] = achieved
        if startup_optimum:
            best = float(group.optimal_qoe_lin_startup.astype(float).mean())
            row["gap_to_optimum_startup"] = best - achieved
    if live:
        row.update({c: float(group[c].astype(float).mean()) for c in LIVE_SUMMARY_COLUMNS})
        if "optimal_qoe_live" in group.columns:
            row["gap_to_live_bound"] = float(group.optimal_qoe_live.mean() - group.qoe_live.mean())
            row["bound_latency_s"] = float(group.optimal_live_latency_s.mean())
            row["bound_rebuffer_s"] = float(group.optimal_live_rebuffer_s.mean())
    if with_optimum:
        optimum = float(group.optimal_qoe_lin.mean())
        # A share of a negative optimum means nothing (3G optima can be below zero): show the
        # gap in QoE_lin always, and the share only where the optimum is positive.
        row["gap_to_optimum"] = optimum - float(group.qoe_lin.mean())
        row["%_of_optimum"] = (
            float(group.qoe_lin.mean()) / optimum * 100.0 if optimum > 0 else math.nan
        )
    return row


def gap_terms(results: pd.DataFrame) -> pd.DataFrame:
    """Per trace set x algorithm: the gap to the optimum split into QoE_lin's three terms.

    QoE_lin per segment = mean bitrate - 4.3 x stall seconds - sum of |bitrate change|, all
    over the segment count (Mbit/s units). Each term of the split is how much better the
    optimum does on it; the three add up to the gap, and a negative one is a term the
    algorithm wins (it stalls less, say, and pays for it in bitrate). Needs the columns
    `--optimal` writes; the bitrate term is what is left of QoE_lin once stalls and switching
    are taken out, so it is exact for either side.
    """
    segments = results.segments.astype(float)
    stalls = REBUFFER_PENALTY_LIN * results.rebuffer_s.astype(float) / segments
    switching = results.switches * results.switch_magnitude_kbps / 1000.0 / segments
    optimal_stalls = REBUFFER_PENALTY_LIN * results.optimal_rebuffer_s / segments
    optimal_switching = results.optimal_switching_mbps / segments
    terms = pd.DataFrame(
        {
            "set": results.trace_set.astype(str),
            "abr": results.abr.astype(str),
            "gap_to_optimum": results.optimal_qoe_lin - results.qoe_lin,
            "gap_from_bitrate": (results.optimal_qoe_lin + optimal_stalls + optimal_switching)
            - (results.qoe_lin + stalls + switching),
            "gap_from_stalls": stalls - optimal_stalls,
            "gap_from_switching": switching - optimal_switching,
        }
    )
    rows = [
        {"set": trace_set, "abr": name, **cell.drop(columns=["set", "abr"]).mean().to_dict()}
        for trace_set in sorted(first_seen(terms.set))
        for name in first_seen(terms.abr)
        if not (cell := terms[(terms.set == trace_set) & (terms.abr == name)]).empty
    ]
    return pd.DataFrame(rows, columns=list(terms.columns))


def median_sessions(results: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(abr, trace_set, trace) of each algorithm's median session by QoE_lin.

    Pooled over all trace sets of the algorithm. With an even count it takes the lower
    middle, so the pick is a real session; equal QoE_lin is broken by trace name (then set)
    so the choice does not depend on row order.
    """
    picks = []
    for name in first_seen(results.abr):
        group = results[(results.abr.astype(str) == name) & results.qoe_lin.notna()]
        if group.empty:
            continue
        group = group.assign(_trace=group.trace.astype(str), _set=group.trace_set.astype(str))
        ordered = group.sort_values(["qoe_lin", "_trace", "_set"], kind="stable")
        row = ordered.iloc[(len(ordered) - 1) // 2]
        picks.append((name, str(row["_set"]), str(row["_trace"])))
    return picks


def write_report(
    results: pd.DataFrame,
    out_dir: Path,
    *,
    timelines: Sequence[Timeline] = (),
    title: str = "streamlab compare",
    command: str = "",
    provenance: Sequence[tuple[str, str]] = (),
) -> ReportPaths:
    """Write report.md, report.html and figures/*.png|svg under `out_dir`; `provenance`
    (what, value) rows become a last, short section."""
    out_dir.mkdir(parents=True, exist_ok=True)
    figures_dir = out_dir / "figures"
    figures_dir.mkdir(exist_ok=True)
    sections = [_summary_section(results)]
    if set(OPTIMUM_COLUMNS) <= set(results.columns):
        sections.append(_gap_section(results))
    written: list[Path] = []
    for section, fig in _figure_sections(results, timelines):
        assert section.figure is not None
        written += _save(fig, figures_dir, section.figure)
        sections.append(section)
    if provenance:
        sections.append(_provenance_section(provenance))
    header = _header(results)
    markdown = out_dir / "report.md"
    markdown.write_text(_render_markdown(title, command, header, sections), encoding="utf-8")
    page = out_dir / "report.html"
    page.write_text(_render_html(title, command, header, sections), encoding="utf-8")
    return ReportPaths(markdown, page, written)


def _summary_section(results: pd.DataFrame) -> _Section:
    note = (
        "One row per trace set and algorithm, averaged over its sessions. Rebuffer is stall time "
        "over play + stall time; '> 0.5 %' is the share of sessions that miss the 0.5 % target. "
        "QoE_lin is Pensieve's linear QoE per segment (Mbit/s units): higher is better."
    )
    if "qoe_lin_startup" in results.columns:
        note += (
            " 'Start-up as stall' is the same QoE_lin with the wait for the first frame charged "
            "like a stall (4.3 per second)."
        )
    if "latency_p95_s" in results.columns:
        note += (
            " Live: latency is UTC now minus when the media at the playhead was live, "
            "time-weighted while playing; NQoE is the MMSys 2020 Twitch grand challenge's live "
            "QoE per session (bitrate, rebuffering, latency, playback speed, switches)."
        )
    if "optimal_qoe_lin" in results.columns:
        note += " '% of optimum' compares mean QoE_lin with the offline optimum on the same traces."
    if "optimal_qoe_live" in results.columns:
        note += (
            " The live bound is the most NQoE a viewer can reach knowing the trace, joining "
            "where the session joins and playing every segment at rate 1 (it never changes "
            "speed and never skips to live after a stall); the algorithms here may do both, "
            "so a negative gap is an algorithm winning by catch-up or resync."
        )
    return _Section("Summary per trace set and algorithm", note, table=summary_table(results))


def _gap_section(results: pd.DataFrame) -> _Section:
    note = (
        "Where each algorithm loses to the offline optimum, in QoE_lin per segment: the gap "
        "splits into bitrate (the optimum's sharper video), stalls (4.3 per stalled second, "
        "per segment) and switching (Mbit/s of bitrate change per segment), which add up to "
        "it. A negative part is one the algorithm wins."
    )
    return _Section("Where the gap to the optimum goes", note, table=gap_terms(results))


def _provenance_section(rows: Sequence[tuple[str, str]]) -> _Section:
    note = (
        "What to cite these results by and how to re-run them: the command, streamlab's "
        "version and commit, the environment, every seed, and a digest of the inputs' "
        "SHA-256 (each file's is in the provenance JSON beside the results). "
        "`streamlab reproduce FOLDER` re-runs the command and checks the results match."
    )
    table = pd.DataFrame(list(rows), columns=["what", "value"])
    return _Section("Provenance", note, table=table)


def _figure_sections(
    results: pd.DataFrame, timelines: Sequence[Timeline]
) -> list[tuple[_Section, Figure]]:
    sections = [
        (
            _Section(
                "QoE_lin distribution",
                "Each line is an algorithm: the share of sessions (y) with a QoE_lin at or "
                "below x. Further right is better; a line left of another loses on most traces.",
                "cdf_qoe_lin",
            ),
            cdf_plot(results, "qoe_lin", xlabel="QoE_lin per segment"),
        ),
        (
            _Section(
                "Rebuffer ratio distribution",
                "The height where a line crosses the dotted 0.5 % target is the share of "
                "sessions that meet it: higher and further left is better.",
                "cdf_rebuffer_ratio",
            ),
            cdf_plot(results, "rebuffer_ratio", xlabel="rebuffer ratio (%)", percent=True),
        ),
        (
            _Section(
                "Bitrate against rebuffering",
                "Big markers are the means per trace set (marker) and algorithm (colour); "
                "faint ones are single sessions. Right is sharper video, down is fewer stalls.",
                "tradeoff",
            ),
            tradeoff_scatter(results),
        ),
    ]
    if "latency_p95_s" in results.columns:
        sections += _live_figure_sections(results)
    stems: set[str] = set()
    for t in timelines:
        stem = _unique(f"timeline_{_slug(t.abr)}", stems)
        which = "Median" if t.why == "median" else "Worst"
        heading = f"{which} session of {t.abr}: {t.trace_set} / {t.trace.name}"
        chosen = (
            "The session with this algorithm's median QoE_lin."
            if t.why == "median"
            else "One of this algorithm's five lowest-QoE_lin sessions: where to look first."
        )
        note = (
            f"{chosen} Top: the link and each download's measured throughput; middle: the "
            "bitrate requested; bottom: the buffer. Red bands are stalls."
        )
        sections.append((_Section(heading, note, stem), timeline_plot(t)))
    return sections


def _live_figure_sections(results: pd.DataFrame) -> list[tuple[_Section, Figure]]:
    return [
        (
            _Section(
                "Live latency distribution",
                "Each line is an algorithm: the share of sessions (y) whose 95th-percentile "
                "latency (UTC now minus when the media at the playhead was live, time-weighted "
                "while playing) is at or below x. Further left is closer to live.",
                "cdf_latency_p95",
            ),
            cdf_plot(results, "latency_p95_s", xlabel="latency p95 (s)"),
        ),
        (
            _Section(
                "Bitrate against live latency",
                "Big markers are the means per trace set (marker) and algorithm (colour); faint "
                "ones are single sessions. Right is sharper video, down is closer to live.",
                "tradeoff_latency",
            ),
            tradeoff_scatter(results, "latency_p95_s", ylabel="latency p95 (s)", what="latency"),
        ),
    ]


def _unique(stem: str, taken: set[str]) -> str:
    """A file stem not used yet: two timelines of one algorithm must not overwrite each other."""
    candidate, n = stem, 2
    while candidate in taken:
        candidate, n = f"{stem}_{n}", n + 1
    taken.add(candidate)
    return candidate


def _slug(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in text)


def _save(fig: Figure, folder: Path, stem: str) -> list[Path]:
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    fig.savefig(paths[0], dpi=110)
    fig.savefig(paths[1])
    return paths


def _header(results: pd.DataFrame) -> list[tuple[str, str]]:
    sets = sorted(first_seen(results.trace_set))
    traces = results[["trace_set", "trace"]].drop_duplicates()
    return [
        ("sessions", f"{len(results)} ({len(traces)} traces)"),
        ("trace sets", ", ".join(sets)),
        ("algorithms", ", ".join(first_seen(results.abr))),
    ]


def format_number(value: object, percent: bool = False) -> str:
    """2-3 significant digits, whole numbers from 1000 up, '%' on percentages."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return "–"
    if isinstance(value, int):
        text = str(value)
    elif abs(value) >= 1000:
        text = f"{value:.0f}"
    elif value != 0 and abs(value) < 0.001:
        text = "<0.001" if value > 0 else ">-0.001"  # keeps tables free of 1e-05 notation
    else:
        text = f"{value:.3g}"
    return f"{text} %" if percent else text


def _display(table: pd.DataFrame) -> pd.DataFrame:
    """The summary as shown in reports: readable headings, formatted cells (all strings)."""
    out = pd.DataFrame(index=range(len(table)))
    for column in table.columns:
        heading, percent = COLUMN_HEADINGS.get(str(column), (str(column), False))
        out[heading] = [format_number(v, percent) for v in table[column].tolist()]
    return out


def _markdown_table(table: pd.DataFrame) -> str:
    shown = _display(table)
    lines = [
        "| " + " | ".join(map(str, shown.columns)) + " |",
        "|" + "|".join(":--" if i < 2 else "--:" for i in range(len(shown.columns))) + "|",
    ]
    # A command line may hold a '|'; unescaped it would split the cell.
    lines += [
        "| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |"
        for row in shown.itertuples(index=False)
    ]
    return "\n".join(lines)


def _render_markdown(
    title: str, command: str, header: list[tuple[str, str]], sections: list[_Section]
) -> str:
    parts = [f"# {title}", ""]
    if command:
        parts += [f"`{command}`", ""]
    parts += [f"- **{key}**: {value}" for key, value in header] + [""]
    for s in sections:
        parts += [f"## {s.title}", "", f"*How to read this:* {s.note}", ""]
        if s.table is not None:
            parts += [_markdown_table(s.table), ""]
        if s.figure:
            parts += [
                f"![{s.title}](figures/{s.figure}.png)",
                "",
                f"[SVG](figures/{s.figure}.svg)",
                "",
            ]
    return "\n".join(parts)


STYLE = """
body { font-family: system-ui, sans-serif; max-width: 1200px; margin: 2em auto; padding: 0 1em;
       color: #222; line-height: 1.4; }
h1 { font-size: 1.6em; margin-bottom: 0.3em; } h2 { font-size: 1.2em; margin-top: 2.2em; }
code { background: #f3f3f3; padding: 0.15em 0.4em; border-radius: 3px; }
dl.header { display: grid; grid-template-columns: max-content auto; gap: 0.2em 1em; }
dl.header dt { font-weight: 600; } dl.header dd { margin: 0; }
p.note { color: #555; font-size: 0.95em; }
table { border-collapse: collapse; font-size: 0.9em; font-variant-numeric: tabular-nums; }
th, td { border: 1px solid #ddd; padding: 0.3em 0.6em; text-align: right; }
th { background: #f5f5f5; }
td:first-child, td:nth-child(2), th:first-child, th:nth-child(2) { text-align: left; }
tbody tr:nth-child(even) { background: #fafafa; }
img { max-width: 100%; border: 1px solid #eee; }
"""


def _render_html(
    title: str, command: str, header: list[tuple[str, str]], sections: list[_Section]
) -> str:
    e = html.escape
    parts = [
        "<!doctype html>",
        "<html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if command:
        parts.append(f"<p><code>{e(command)}</code></p>")
    parts.append("<dl class='header'>")
    parts += [f"<dt>{e(key)}</dt><dd>{e(value)}</dd>" for key, value in header]
    parts.append("</dl>")
    for s in sections:
        parts.append(f"<h2>{e(s.title)}</h2>")
        parts.append(f"<p class='note'><b>How to read this:</b> {e(s.note)}</p>")
        if s.table is not None:
            parts.append(_display(s.table).to_html(index=False, border=0, classes="summary"))
        if s.figure:
            parts.append(
                f"<p><img src='figures/{s.figure}.png' alt='{e(s.title, quote=True)}'><br>"
                f"<a href='figures/{s.figure}.svg'>SVG</a></p>"
            )
    parts.append("</body></html>")
    return "\n".join(parts)
