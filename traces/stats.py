"""Per-set statistics of trace collections: the table `streamlab traces stats` prints."""

from __future__ import annotations

import numpy as np
import pandas as pd
from rich.table import Table

from traces.trace import Trace, weighted_percentile

COLUMNS = ("set", "count", "duration_s_mean", "bw_mean_kbps", "bw_p10_kbps", "bw_p90_kbps")


def trace_set_stats(traces: list[Trace]) -> pd.DataFrame:
    """One row per set; bandwidth statistics weighted by time across all of the set's traces."""
    by_set: dict[str, list[Trace]] = {}
    for trace in traces:
        by_set.setdefault(trace.set_name, []).append(trace)
    rows = []
    for name in sorted(by_set):
        group = by_set[name]
        kbps = np.concatenate([t.bandwidth_kbps for t in group])
        weights = np.concatenate([t.durations_s for t in group])
        rows.append(
            {
                "set": name,
                "count": len(group),
                "duration_s_mean": float(np.mean([t.total_duration_s for t in group])),
                "bw_mean_kbps": float(np.average(kbps, weights=weights)),
                "bw_p10_kbps": weighted_percentile(kbps, weights, 10),
                "bw_p90_kbps": weighted_percentile(kbps, weights, 90),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))


def render_stats_table(df: pd.DataFrame) -> Table:
    """Short headers fit 80 columns; narrower terminals fold cells rather than cut them."""
    table = Table(title="trace sets")
    longest = max((len(str(name)) for name in df["set"]), default=3)
    table.add_column("set", overflow="fold", min_width=longest)
    for header in ("traces", "mean s", "mean kbps", "p10 kbps", "p90 kbps"):
        table.add_column(header, justify="right", overflow="fold")
    for row in df.itertuples(index=False):
        table.add_row(
            str(row.set),
            str(row.count),
            f"{row.duration_s_mean:.1f}",
            f"{row.bw_mean_kbps:.0f}",
            f"{row.bw_p10_kbps:.0f}",
            f"{row.bw_p90_kbps:.0f}",
        )
    return table
