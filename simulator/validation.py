"""Validation against Sabre (UMass-LIDS), an independent ABR simulator.

Runs our algorithms under the `sabre` profile on the dev traces and compares per-set means
with Sabre's own results (`anchors/sabre-dev-noabandon.csv`, Sabre's abandonment off: its
abandonment has a known defect). Tolerances from the lab's acceptance criteria: mean
bitrate within 5 %; mean rebuffer ratio within 10 % relative or 0.3 percentage points.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from simulator.compare import LabSetup, iter_rows

VALIDATED = ("bola", "bolae", "dynamic", "throughput")
BITRATE_TOLERANCE = 0.05
REBUFFER_RELATIVE_TOLERANCE = 0.10
REBUFFER_ABSOLUTE_TOLERANCE = 0.003


def run_sabre_sets(shared: Path, jobs: int | None = None) -> pd.DataFrame:
    """Our per-session results on every trace set that Sabre's anchors cover."""
    anchors = pd.read_csv(shared / "anchors" / "sabre-dev-noabandon.csv")
    paths = [
        str(shared / "traces" / trace_set / trace)
        for trace_set, trace in anchors[["set", "trace"]].drop_duplicates().itertuples(index=False)
    ]
    setup = LabSetup(str(shared / "videos" / "bbb.json"), VALIDATED, profile_name="sabre")
    rows = [row for batch in iter_rows(setup, paths, jobs) for row in batch]
    return pd.DataFrame(rows)


def compare_with_sabre(ours: pd.DataFrame, shared: Path) -> pd.DataFrame:
    """One row per set x algorithm: both means, the differences, and whether each is within tolerance."""
    sabre = pd.read_csv(shared / "anchors" / "sabre-dev-noabandon.csv").rename(
        columns={"set": "trace_set", "algorithm": "abr"}
    )
    keys = ["trace_set", "abr"]
    mine = ours.groupby(keys)[["bitrate_kbps", "rebuffer_ratio", "qoe_lin"]].mean()
    theirs = sabre.groupby(keys)[["bitrate_kbps", "rebuffer_ratio", "qoe_lin"]].mean()
    table = mine.merge(theirs, on=keys, suffixes=("_ours", "_sabre")).reset_index()
    table["bitrate_diff"] = table.bitrate_kbps_ours / table.bitrate_kbps_sabre - 1.0
    table["rebuffer_diff_pp"] = (table.rebuffer_ratio_ours - table.rebuffer_ratio_sabre) * 100.0
    allowed = (REBUFFER_RELATIVE_TOLERANCE * table.rebuffer_ratio_sabre).clip(
        lower=REBUFFER_ABSOLUTE_TOLERANCE
    )
    table["bitrate_ok"] = table.bitrate_diff.abs() <= BITRATE_TOLERANCE
    table["rebuffer_ok"] = (table.rebuffer_ratio_ours - table.rebuffer_ratio_sabre).abs() <= allowed
    return table
