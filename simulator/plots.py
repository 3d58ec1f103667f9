"""Figures for lab reports. Each function returns a matplotlib Figure (no pyplot state)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from abr.context import DownloadRecord
from traces.trace import Trace

REBUFFER_TARGET = 0.005  # the product's rebuffer-ratio target, drawn on rebuffer plots


@dataclass
class Timeline:
    """One session to draw over time: its link, its downloads, its ladder and its metrics."""

    abr: str
    trace_set: str
    trace: Trace
    downloads: list[DownloadRecord]
    bitrates_kbps: list[float]
    summary: dict[str, float]


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return math.ceil(n / cols), cols


def cdf_plot(
    df: pd.DataFrame, column: str, *, xlabel: str, percent: bool = False, by: str = "abr"
) -> Figure:
    """Empirical CDF of `column`, one line per algorithm, one panel per trace set."""
    sets = sorted(df.trace_set.unique())
    rows, cols = _grid(len(sets))
    fig = Figure(figsize=(4.6 * cols, 3.4 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False)
    order = list(dict.fromkeys(df[by]))
    for ax, trace_set in zip(axes.flat, sets, strict=False):
        subset = df[df.trace_set == trace_set]
        for name in order:
            values = np.sort(subset[subset[by] == name][column].to_numpy(dtype=float))
            if percent:
                values = values * 100.0
            if len(values):
                ax.step(
                    values, np.arange(1, len(values) + 1) / len(values), where="post", label=name
                )
        if percent and column == "rebuffer_ratio":
            ax.axvline(REBUFFER_TARGET * 100.0, color="grey", linestyle=":", linewidth=1)
        ax.set_title(trace_set, fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("share of sessions")
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(sets) :]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside right upper", fontsize=9)
    return fig


def tradeoff_scatter(df: pd.DataFrame) -> Figure:
    """Mean bitrate against mean rebuffer ratio: up and to the left is better."""
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.add_subplot()
    markers = "osD^vP*X"
    algorithms = list(dict.fromkeys(df.abr))
    colours = {name: f"C{i % 10}" for i, name in enumerate(algorithms)}
    for i, trace_set in enumerate(sorted(df.trace_set.unique())):
        means = df[df.trace_set == trace_set].groupby("abr", sort=False)[
            ["bitrate_kbps", "rebuffer_ratio"]
        ]
        for name, group in means:
            mean = group.mean()
            ax.scatter(
                mean.bitrate_kbps,
                mean.rebuffer_ratio * 100.0,
                marker=markers[i % len(markers)],
                color=colours[str(name)],
                s=60,
                edgecolor="black",
                linewidth=0.5,
                zorder=3,
            )
        ax.scatter([], [], marker=markers[i % len(markers)], color="grey", label=trace_set)
    for name in algorithms:
        ax.scatter([], [], marker="s", color=colours[name], label=name)
    ax.axhline(REBUFFER_TARGET * 100.0, color="grey", linestyle=":", linewidth=1)
    ax.set_xlabel("mean bitrate (kbit/s)")
    ax.set_ylabel("mean rebuffer ratio (%)")
    ax.set_title("bitrate vs rebuffering, per trace set (marker) and algorithm (colour)")
    ax.grid(alpha=0.3)
    fig.legend(loc="outside right upper", fontsize=8)
    return fig


def _link_steps(trace: Trace, until_s: float) -> tuple[np.ndarray, np.ndarray]:
    """The trace's bandwidth as step points over [0, until_s], looping as the simulator does."""
    period = trace.total_duration_s
    loops = max(math.ceil(until_s / period), 1)
    starts = np.concatenate(([0.0], np.cumsum(trace.durations_s)[:-1]))
    times = np.concatenate([starts + k * period for k in range(loops)])
    values = np.tile(trace.bandwidth_kbps, loops)
    keep = times <= until_s
    return np.append(times[keep], until_s), np.append(values[keep], values[keep][-1])


def timeline_plot(t: Timeline) -> Figure:
    """Link throughput, chosen bitrate and buffer level over one session."""
    fig = Figure(figsize=(10, 6.5), layout="constrained")
    ax_link, ax_rate, ax_buffer = fig.subplots(3, 1, sharex=True)
    end = max((d.done_at for d in t.downloads), default=1.0)
    times, kbps = _link_steps(t.trace, end)
    ax_link.step(times, kbps / 1000.0, where="post", color="C7", label="link")
    done = [d for d in t.downloads if not d.abandoned]
    ax_link.scatter(
        [d.done_at for d in t.downloads],
        [d.throughput_kbps / 1000.0 for d in t.downloads],
        s=8,
        color="C0",
        label="measured per download",
        zorder=3,
    )
    ax_link.set_ylabel("Mbit/s")
    ax_link.legend(loc="upper right", fontsize=8)
    ax_rate.step(
        [d.requested_at for d in done],
        [t.bitrates_kbps[d.rendition_index] / 1000.0 for d in done],
        where="post",
        color="C1",
    )
    abandoned = [d for d in t.downloads if d.abandoned]
    if abandoned:
        ax_rate.scatter(
            [d.done_at for d in abandoned],
            [t.bitrates_kbps[d.rendition_index] / 1000.0 for d in abandoned],
            marker="x",
            color="C3",
            label="abandoned",
        )
        ax_rate.legend(loc="upper right", fontsize=8)
    ax_rate.set_ylabel("bitrate (Mbit/s)")
    points = sorted(
        [(d.requested_at, d.buffer_before_s) for d in t.downloads]
        + [(d.done_at, d.buffer_after_s) for d in t.downloads]
    )
    ax_buffer.plot([p[0] for p in points], [p[1] for p in points], color="C2")
    for d in t.downloads:
        if d.stall_s > 0:
            ax_buffer.axvspan(d.done_at - d.stall_s, d.done_at, color="C3", alpha=0.25, linewidth=0)
    ax_buffer.set_ylabel("buffer (s)")
    ax_buffer.set_xlabel("session time (s)")
    for ax in (ax_link, ax_rate, ax_buffer):
        ax.grid(alpha=0.3)
    _title(ax_link, t)
    return fig


def _title(ax: Axes, t: Timeline) -> None:
    s = t.summary
    ax.set_title(
        f"{t.abr} on {t.trace_set}/{t.trace.name}: {s.get('bitrate_kbps', 0):.0f} kbit/s, "
        f"rebuffer {s.get('rebuffer_ratio', 0) * 100:.2f} %, QoE_lin {s.get('qoe_lin', 0):.2f} "
        "(red: stalls)",
        fontsize=10,
    )
