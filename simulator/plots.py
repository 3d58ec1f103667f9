"""Figures for lab reports. Each function returns a matplotlib Figure.

Figures are built on `matplotlib.figure.Figure` directly, never through pyplot, so nothing
here touches global state or needs a display: worker processes and tests can draw freely.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.typing import LineStyleType

from abr.context import DownloadRecord
from traces.trace import Trace

REBUFFER_TARGET = 0.005  # the product's rebuffer-ratio target, drawn on rebuffer plots
_MARKERS = "osD^vP*Xph"
_LINESTYLES: tuple[LineStyleType, ...] = ("-", "--", "-.", ":")
_STALL_COLOUR = "C3"
Style = tuple[str, LineStyleType]  # (colour, line style) of one algorithm


@dataclass
class Timeline:
    """One session to draw over time: its link, its downloads, its ladder and its metrics."""

    abr: str
    trace_set: str
    trace: Trace
    downloads: list[DownloadRecord]
    bitrates_kbps: list[float]  # per rendition, indexed by DownloadRecord.rendition_index
    summary: dict[str, float]  # the session's results row (bitrate_kbps, rebuffer_ratio, ...)
    why: str = "median"  # why the report shows it: "median" or "worst"


def first_seen(values: Iterable[object]) -> list[str]:
    """Distinct values in order of first appearance: the order the user listed algorithms in."""
    return [str(v) for v in dict.fromkeys(values)]


def _style(names: Sequence[str]) -> dict[str, Style]:
    """(colour, linestyle) per name, fixed for the whole report so a name keeps its colour
    even in a panel where another algorithm has no sessions."""
    return {
        name: (f"C{i % 10}", _LINESTYLES[(i // 10) % len(_LINESTYLES)])
        for i, name in enumerate(names)
    }


def _grid(n: int) -> tuple[int, int]:
    cols = min(max(n, 1), 3)
    return math.ceil(max(n, 1) / cols), cols


def _ecdf(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Step points of the empirical CDF, starting from 0 so every line rises from the axis."""
    xs = np.sort(values)
    ys = np.arange(1, len(xs) + 1) / len(xs)
    return np.concatenate(([xs[0]], xs)), np.concatenate(([0.0], ys))


def cdf_plot(
    df: pd.DataFrame,
    column: str,
    *,
    by: str = "abr",
    facet: str = "trace_set",
    xlabel: str | None = None,
    percent: bool = False,
) -> Figure:
    """Empirical CDF of `column`, one line per `by` value, one panel per `facet` value.

    `percent` multiplies the values by 100 (for ratios); rebuffer_ratio also gets the
    0.5 % target as a dotted vertical line.
    """
    panels = sorted(first_seen(df[facet]))
    style = _style(first_seen(df[by]))
    scale = 100.0 if percent else 1.0
    rows, cols = _grid(len(panels))
    fig = Figure(figsize=(4.4 * cols + 1.4, 3.3 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False, sharey=True)
    for ax, panel in zip(axes.flat, panels, strict=False):
        subset = df[df[facet].astype(str) == panel]
        for name, (colour, linestyle) in style.items():
            values = subset.loc[subset[by].astype(str) == name, column].to_numpy(dtype=float)
            values = values[np.isfinite(values)] * scale
            if len(values):
                xs, ys = _ecdf(values)
                ax.step(xs, ys, where="post", color=colour, linestyle=linestyle, linewidth=1.6)
        if column == "rebuffer_ratio":
            ax.axvline(REBUFFER_TARGET * scale, color="black", linestyle=":", linewidth=1)
        ax.set_title(f"{panel} ({len(subset)} sessions)", fontsize=10)
        ax.set_xlabel(xlabel or column)
        ax.set_ylim(0.0, 1.02)
        ax.grid(alpha=0.3)
    for ax in axes[:, 0]:
        ax.set_ylabel("share of sessions ≤ x")
    for ax in list(axes.flat)[len(panels) :]:
        ax.set_visible(False)
    # Built from the style table, not from one panel: a panel may lack an algorithm.
    handles: list[Line2D | Patch] = [
        Line2D([], [], color=c, linestyle=ls, linewidth=1.6, label=name)
        for name, (c, ls) in style.items()
    ]
    if column == "rebuffer_ratio":
        target = f"{REBUFFER_TARGET * scale:g}{' %' if percent else ''} target"
        handles.append(Line2D([], [], color="black", linestyle=":", linewidth=1, label=target))
    legend_title = "algorithm" if by == "abr" else by
    fig.legend(handles=handles, loc="outside right upper", fontsize=9, title=legend_title)
    return fig


def tradeoff_scatter(
    df: pd.DataFrame,
    y: str = "rebuffer_ratio",
    *,
    ylabel: str = "rebuffer ratio (%)",
    what: str = "rebuffering",
) -> Figure:
    """Mean bitrate against the mean of `y` (rebuffer ratio, shown in %, or a live latency in
    s) per trace set x algorithm.

    Big outlined markers are the means (marker = trace set, colour = algorithm); the faint
    small ones are single sessions, to show how much the mean hides. Right and down is better.
    """
    percent = y == "rebuffer_ratio"
    fig = Figure(figsize=(9, 5.5), layout="constrained")
    ax = fig.add_subplot()
    algorithms = first_seen(df.abr)
    style = _style(algorithms)
    sets = sorted(first_seen(df.trace_set))
    for i, trace_set in enumerate(sets):
        marker = _MARKERS[i % len(_MARKERS)]
        in_set = df[df.trace_set.astype(str) == trace_set]
        for name in algorithms:
            group = in_set[in_set.abr.astype(str) == name]
            if group.empty:
                continue
            colour = style[name][0]
            x = group.bitrate_kbps.to_numpy(dtype=float)
            ys = group[y].to_numpy(dtype=float) * (100.0 if percent else 1.0)
            ax.scatter(x, ys, marker=marker, color=colour, s=12, alpha=0.2, linewidths=0)
            ax.scatter(
                np.nanmean(x),
                np.nanmean(ys),
                marker=marker,
                color=colour,
                s=90,
                edgecolor="black",
                linewidth=0.8,
                zorder=3,
            )
    if percent:
        ax.axhline(REBUFFER_TARGET * 100.0, color="black", linestyle=":", linewidth=1)
    ax.set_xlabel("bitrate (kbit/s)")
    ax.set_ylabel(ylabel)
    ax.set_title(f"Bitrate vs {what}: big = mean per trace set, faint = single sessions")
    ax.text(
        0.99,
        0.98,
        "better: right and down",
        transform=ax.transAxes,
        ha="right",
        va="top",
        fontsize=8,
        color="dimgrey",
    )
    ax.grid(alpha=0.3)
    legend = _tradeoff_legend(sets, style, rebuffer_target=percent)
    fig.legend(handles=legend, loc="outside right upper", fontsize=9)
    return fig


def _tradeoff_legend(
    sets: list[str], style: dict[str, Style], *, rebuffer_target: bool
) -> list[Line2D]:
    """One legend in two labelled groups: markers name trace sets, colours name algorithms."""

    def header(text: str) -> Line2D:
        return Line2D([], [], linestyle="none", label=text)

    def entry(marker: str, colour: str, label: str) -> Line2D:
        return Line2D(
            [],
            [],
            linestyle="none",
            marker=marker,
            color=colour,
            markeredgecolor="black",
            markersize=8,
            label=label,
        )

    handles = [header("trace set (marker)")]
    handles += [entry(_MARKERS[i % len(_MARKERS)], "grey", s) for i, s in enumerate(sets)]
    handles.append(header("algorithm (colour)"))
    handles += [entry("o", colour, name) for name, (colour, _) in style.items()]
    if rebuffer_target:
        target = Line2D([], [], color="black", linestyle=":", linewidth=1, label="0.5 % target")
        handles.append(target)
    return handles


def link_steps(trace: Trace, until_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The trace's bandwidth (kbit/s) as step points over [0, until_s], looping it from time 0
    as the simulator's link does, so the plot shows the link the session actually had."""
    period = trace.total_duration_s
    loops = max(math.ceil(until_s / period), 1)
    starts = np.concatenate(([0.0], np.cumsum(trace.durations_s)[:-1]))
    times = np.concatenate([starts + k * period for k in range(loops)])
    values = np.tile(trace.bandwidth_kbps, loops)
    keep = times <= until_s
    # A closing point at until_s so the last piece is drawn to the end of the session.
    return np.append(times[keep], until_s), np.append(values[keep], values[keep][-1])


def buffer_points(
    downloads: Sequence[DownloadRecord], playing_from: float
) -> list[tuple[float, float]]:
    """(time, buffer seconds) vertices of the buffer curve.

    A record only gives the level at request and after the segment lands. Once playback has
    started the buffer drains at 1 s/s during the download (to zero: a stall), then jumps by
    the segment at `done_at`; before that it only fills. Drawing that sawtooth, rather than a
    straight line between the two known levels, is what makes stalls visible.
    """
    points: list[tuple[float, float]] = []
    for d in sorted(downloads, key=lambda r: r.requested_at):
        points.append((d.requested_at, d.buffer_before_s))
        level = d.buffer_before_s
        if d.requested_at >= playing_from:
            empty_at = d.requested_at + d.buffer_before_s
            if empty_at < d.done_at:
                points.append((empty_at, 0.0))
            level = max(d.buffer_before_s - (d.done_at - d.requested_at), 0.0)
        points.append((d.done_at, level))
        points.append((d.done_at, d.buffer_after_s))
    return points


def stall_spans(downloads: Sequence[DownloadRecord]) -> list[tuple[float, float]]:
    """Stall intervals: a stall ends when the download it waited for lands."""
    return [(d.done_at - d.stall_s, d.done_at) for d in downloads if d.stall_s > 0]


def _playback_start(t: Timeline) -> float:
    """When playback began; without a usable startup_s, assume after the first download."""
    startup = t.summary.get("startup_s", math.nan)
    if math.isfinite(startup):
        return startup
    return min((d.done_at for d in t.downloads), default=0.0)


def timeline_plot(t: Timeline) -> Figure:
    """Link throughput, chosen bitrate and buffer level over one session, stalls shaded."""
    fig = Figure(figsize=(10, 7), layout="constrained")
    ax_link, ax_rate, ax_buffer = fig.subplots(3, 1, sharex=True)
    end = max((d.done_at for d in t.downloads), default=1.0)
    _draw_link(ax_link, t, end)
    _draw_bitrate(ax_rate, t)
    ax_buffer.plot(*zip(*buffer_points(t.downloads, _playback_start(t)), strict=True), color="C2")
    ax_buffer.set_ylabel("buffer (s)")
    ax_buffer.set_ylim(bottom=0.0)
    ax_buffer.set_xlabel("session time (s)")
    spans = stall_spans(t.downloads)
    for ax in (ax_link, ax_rate, ax_buffer):
        ax.grid(alpha=0.3)
        for start, stop in spans:  # on every panel, to line stalls up with link and bitrate
            ax.axvspan(start, stop, color=_STALL_COLOUR, alpha=0.2, linewidth=0)
    if spans:
        ax_buffer.legend(
            handles=[Patch(color=_STALL_COLOUR, alpha=0.2, label="stall")],
            loc="upper left",
            fontsize=8,
        )
        _headroom(ax_buffer)
    ax_buffer.set_xlim(0.0, end * 1.01)
    fig.suptitle(_title(t), fontsize=10)
    return fig


def _headroom(ax: Axes, factor: float = 1.3) -> None:
    """Room above the data for the legend, so it never hides a line."""
    bottom, top = ax.get_ylim()
    ax.set_ylim(bottom, bottom + (top - bottom) * factor)


def _draw_link(ax: Axes, t: Timeline, end: float) -> None:
    times, kbps = link_steps(t.trace, end)
    ax.step(times, kbps / 1000.0, where="post", color="C7", label="link (trace)")
    # A download's throughput is its average over the transfer, so plot it mid-transfer.
    ax.scatter(
        [(d.first_byte_at + d.done_at) / 2 for d in t.downloads],
        [d.throughput_kbps / 1000.0 for d in t.downloads],
        s=10,
        color="C0",
        label="measured per download",
        zorder=3,
    )
    ax.set_ylabel("throughput (Mbit/s)")
    ax.set_ylim(bottom=0.0)
    _headroom(ax)
    ax.legend(loc="upper left", fontsize=8, ncols=2)


def _draw_bitrate(ax: Axes, t: Timeline) -> None:
    done = sorted((d for d in t.downloads if not d.abandoned), key=lambda d: d.requested_at)
    mbps = [t.bitrates_kbps[d.rendition_index] / 1000.0 for d in done]
    if done:
        # Extend the last choice to its done_at so the step covers the whole session.
        ax.step(
            [d.requested_at for d in done] + [done[-1].done_at],
            [*mbps, mbps[-1]],
            where="post",
            color="C1",
            label="bitrate requested",
        )
    abandoned = [d for d in t.downloads if d.abandoned]
    if abandoned:
        ax.scatter(
            [d.done_at for d in abandoned],
            [t.bitrates_kbps[d.rendition_index] / 1000.0 for d in abandoned],
            marker="x",
            color=_STALL_COLOUR,
            label="abandoned download",
            zorder=3,
        )
    ax.set_ylabel("bitrate (Mbit/s)")
    ax.set_ylim(0.0, max(t.bitrates_kbps, default=1.0) / 1000.0 * 1.35)
    ax.legend(loc="upper left", fontsize=8, ncols=2)


def _title(t: Timeline) -> str:
    s = dict(t.summary)
    # Callers that keep only Python int/float values from a pandas row lose the numpy-int
    # counts; the downloads give the same numbers, so fill them in rather than drop them.
    s.setdefault("stall_count", float(len(stall_spans(t.downloads))))
    s.setdefault("switches", float(_switches(t.downloads)))
    parts = []
    if "bitrate_kbps" in s:
        parts.append(f"{s['bitrate_kbps']:.0f} kbit/s")
    if "rebuffer_ratio" in s:
        parts.append(f"rebuffer {s['rebuffer_ratio'] * 100:.2f} %")
    parts.append(_count(s["stall_count"], "stall"))
    if "startup_s" in s:
        parts.append(f"start-up {s['startup_s']:.2f} s")
    parts.append(_count(s["switches"], "switch", "switches"))
    if "qoe_lin" in s:
        parts.append(f"QoE_lin {s['qoe_lin']:.2f}")
    return f"{t.abr} on {t.trace_set} / {t.trace.name}\n" + ", ".join(parts)


def _count(n: float, one: str, many: str | None = None) -> str:
    return f"{n:.0f} {one if round(n) == 1 else many or one + 's'}"


def _switches(downloads: Sequence[DownloadRecord]) -> int:
    """Rendition changes between consecutive completed downloads."""
    chosen = [d.rendition_index for d in downloads if not d.abandoned]
    return sum(a != b for a, b in pairwise(chosen))
