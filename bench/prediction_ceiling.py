"""How far could MPC go with a perfect throughput prediction? A ceiling for predictor work.

    python -m bench.prediction_ceiling [--windows 3,6,12,24,48] [--split validation]

`ClairvoyantMpc` is RobustMPC's planner (8-segment horizon, every rendition searched, no
discount) told the true mean bandwidth of the next W seconds of the trace, read from the
simulator's link: no causal predictor can do better than the truth, so the gap it closes
bounds what a better predictor alone can add to an MPC of this shape. It lives here, not in
`abr/`, because it reads the future.

Same split, sets and gap as `bench.streamlab_tuning` (RobustMPC as the best classic).
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pandas as pd

from abr.algorithms.robustmpc import RobustMpcAbr
from abr.context import AbrContext
from abr.registry import PROFILES, create
from bench.streamlab_tuning import gap_closed, split_of
from simulator.link import TraceLink
from simulator.optimal import optimal_qoe_lin
from simulator.run import simulate
from simulator.video import load_video
from traces.load import load_trace

HORIZON = 8
WINDOWS_S = (3.0, 6.0, 12.0, 24.0, 48.0)


class ClairvoyantMpc(RobustMpcAbr):
    name = "clairvoyant-mpc"

    def __init__(self, link: TraceLink, window_s: float) -> None:
        super().__init__(horizon=HORIZON, band=None, robust=False)
        self.link = link
        self.window_s = window_s

    def predict_kbps(self, ctx: AbrContext) -> float | None:
        now = ctx.now
        delivered = self.link.capacity_at(now + self.window_s) - self.link.capacity_at(now)
        return max(delivered / self.window_s / 1000.0, 1.0)  # an outage: plan at 1 kbit/s


def _run_trace(job: tuple[str, str, tuple[float, ...]]) -> list[dict[str, object]]:
    path, video_path, windows = job
    video = load_video(video_path)
    profile = PROFILES["default"]
    trace = load_trace(path)
    target = profile.session.target_s(max(video.segment_durations_s))
    optimum = optimal_qoe_lin(trace, video, target).qoe_lin
    algorithms = {name: create(name, profile) for name in ("robustmpc", "streamlab")}
    for window in windows:
        algorithms[f"clairvoyant {window:.0f} s"] = ClairvoyantMpc(TraceLink(trace), window)
    return [
        {
            "trace_set": trace.set_name,
            "trace": trace.name,
            "abr": name,
            "qoe_lin": simulate(trace, video, algorithm, profile.session).summary.qoe_lin,
            "optimal_qoe_lin": optimum,
        }
        for name, algorithm in algorithms.items()
    ]


def report(shared: Path, windows: tuple[float, ...], split: str, jobs: int | None = None) -> str:
    video_path = str(shared / "videos" / "bbb.json")
    paths = [path for path, (_, part) in split_of(shared).items() if part == split]
    with ProcessPoolExecutor(jobs) as pool:
        jobs_list = [(path, video_path, windows) for path in paths]
        rows = [row for batch in pool.map(_run_trace, jobs_list, chunksize=4) for row in batch]
    frame = pd.DataFrame(rows)
    qoe = frame.pivot_table(index="trace_set", columns="abr", values="qoe_lin")
    optimum = frame.groupby("trace_set").optimal_qoe_lin.mean()
    qoe.loc["**mean of sets**"] = qoe.mean()
    optimum.loc["**mean of sets**"] = optimum.mean()
    names = ["streamlab", *(f"clairvoyant {w:.0f} s" for w in windows)]
    lines = [
        f"## What a perfect throughput prediction would give MPC ({split} half, default profile)",
        "",
        "Gap from RobustMPC to the offline optimum closed, per set (`python -m "
        "bench.prediction_ceiling`). *clairvoyant W s*: MPC (8 segments, no discount) told "
        "the true mean bandwidth of the next W seconds.",
        "",
        "| set | " + " | ".join(names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for name in qoe.index:
        best = qoe.at[name, "robustmpc"]
        cells = [gap_closed(best, qoe.at[name, n], optimum[name]) for n in names]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[2] / "shared")
    parser.add_argument(
        "--windows", default=",".join(f"{w:g}" for w in WINDOWS_S), help="seconds, comma-separated"
    )
    parser.add_argument("--split", choices=("train", "validation"), default="validation")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    windows = tuple(float(w) for w in args.windows.split(","))
    print(report(args.shared, windows, args.split, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
