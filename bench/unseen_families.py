"""`streamlab` on synthetic link families nobody tuned it on, against the classics and the optimum.

    python -m bench.unseen_families [--per-family N] [--video bbb.json] [--scale S] [--candidate NAME]

The dev traces tuned streamlab (`bench.streamlab_tuning`); the held-out sets that judge it
include kinds absent from them. `traces.synthetic.families` draws seven kinds of link (calm,
volatile and slow random walks, Wi-Fi with short drops, random steps, outages, a jittery
two-state cellular link): a table per family says whether streamlab stays above the best
classic and how much of the gap to the optimum it closes. A family where it falls below a
classic points at a rule that does not generalise (how the fast-link outage rule was found).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from bench.streamlab_tuning import CANDIDATE, CLASSICS, gap_closed
from simulator.compare import LabSetup, iter_rows
from traces import synthetic
from traces.formats import sabre_json


def run(
    video_path: Path,
    per_family: int = 16,
    scale: float = 1.0,
    jobs: int | None = None,
    algorithms: tuple[str, ...] = (*CLASSICS, CANDIDATE),
) -> pd.DataFrame:
    """One row per session (every family trace x `algorithms`), with the optimum."""
    setup = LabSetup(str(video_path), algorithms, optimal=True)
    with tempfile.TemporaryDirectory(prefix="streamlab-families-") as tmp:
        paths = []
        for trace in synthetic.families(per_family, seed=0, scale=scale):
            folder = Path(tmp, trace.set_name)  # the folder names the set
            folder.mkdir(exist_ok=True)
            path = folder / f"{trace.name}.json"
            path.write_text(sabre_json.dump(trace))
            paths.append(str(path))
        rows = [row for batch in iter_rows(setup, paths, jobs) for row in batch]
    return pd.DataFrame(rows)


def table(frame: pd.DataFrame, candidate: str = CANDIDATE) -> str:
    qoe = frame.pivot_table(index="trace_set", columns="abr", values="qoe_lin")
    optimum = frame.drop_duplicates(["trace_set", "trace"]).groupby("trace_set").optimal_qoe_lin
    qoe["optimum"] = optimum.mean()
    classics = list(CLASSICS)
    best = qoe[classics].mean().idxmax()
    lines = [
        f"Best classic over the families: **{best}**.\n",
        f"| family | best classic in the family | {candidate} | optimum | gap closed (vs "
        f"{best}) | {candidate} - the family's best classic |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in qoe.iterrows():
        local = row[classics].astype(float).idxmax()
        lines.append(
            f"| {name} | {local} {row[local]:.3f} | {row[candidate]:.3f} | {row.optimum:.3f} | "
            f"{gap_closed(row[best], row[candidate], row.optimum)} | "
            f"{row[candidate] - row[local]:+.3f} |"
        )
    mean = qoe.mean()
    lines.append(
        f"| **mean of families** | {best} {mean[best]:.3f} | {mean[candidate]:.3f} | "
        f"{mean.optimum:.3f} | **{gap_closed(mean[best], mean[candidate], mean.optimum)}** | |"
    )
    return "\n".join(lines) + "\n"


def report(
    video_path: Path, per_family: int = 16, scale: float = 1.0, candidate: str = CANDIDATE
) -> str:
    start = time.perf_counter()
    frame = run(video_path, per_family, scale, algorithms=(*CLASSICS, candidate))
    elapsed = time.perf_counter() - start
    return (
        f"## {candidate} on unseen link families ({video_path.name}, rates x {scale:g})\n\n"
        f"`traces.synthetic.families({per_family}, seed=0, scale={scale:g})`: "
        f"{frame.trace.nunique()} traces of 600 s, default profile, optimum on a 1 s grid "
        f"({len(frame)} sessions in {elapsed:.0f} s).\n\n" + table(frame, candidate)
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[2] / "shared")
    parser.add_argument("--video", default="bbb.json", help="a file in SHARED/videos")
    parser.add_argument("--per-family", type=int, default=16)
    parser.add_argument("--scale", type=float, default=1.0, help="6 suits bbb4k's ladder")
    parser.add_argument("--candidate", default=CANDIDATE, help="the algorithm judged")
    args = parser.parse_args()
    print(report(args.shared / "videos" / args.video, args.per_family, args.scale, args.candidate))
    return 0


if __name__ == "__main__":
    sys.exit(main())
