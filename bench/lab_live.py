"""Live in the lab: every algorithm on the dev sets with bbb published as a live channel.

Standalone: `python -m bench.lab_live [--per-set N]` prints the table (N traces per set,
default all); `make bench` runs it on every dev trace.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from abr.registry import PROFILES, create
from bench.lab import ALGORITHMS, _dev_paths
from simulator.live import simulate_live
from simulator.live_channel import LiveSetup
from simulator.video import load_video
from traces.load import load_trace

TARGETS_S = (2.0, 6.0)
LIVE_ALGORITHMS = ("l2a", "lolp")  # built for live, beside the classics
SEGMENT_S = 1.0  # bbb's 3 s segments make a 2 s target unreachable (a segment is made whole)


def report(shared: Path, per_set: int | None = None) -> str:
    video = load_video(shared / "videos" / "bbb.json")
    by_set: dict[str, list[Path]] = defaultdict(list)
    for path in _dev_paths(shared):
        by_set[path.parent.name].append(path)
    paths = [p for ps in by_set.values() for p in ps[:per_set]]
    traces = [load_trace(p) for p in paths]
    config = PROFILES["default"].session
    lines = [
        "| target (s) | algorithm | sessions | latency p95 (s) | bitrate (kbit/s) | rebuffer % | time off 1x (s) | NQoE | sessions/s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for target in TARGETS_S:
        setup = LiveSetup(target, SEGMENT_S)
        for name in (*ALGORITHMS, *LIVE_ALGORITHMS):
            p95, kbps, rebuffer, off, qoe = [], [], [], [], []
            start = time.perf_counter()
            for trace in traces:
                result = simulate_live(trace, video, create(name), setup, config)
                assert result.live is not None
                p95.append(result.live.latency_p95_s)
                kbps.append(result.summary.bitrate_kbps)
                rebuffer.append(result.summary.rebuffer_ratio)
                off.append(result.live.rate_change_s)
                qoe.append(result.live.qoe_live)
            rate = len(traces) / (time.perf_counter() - start)
            lines.append(
                f"| {target:g} | {name} | {len(traces)} | {np.nanmean(p95):.2f} | "
                f"{np.mean(kbps):.0f} | {100 * np.mean(rebuffer):.2f} | {np.mean(off):.1f} | "
                f"{np.mean(qoe):.0f} | {rate:.1f} |"
            )
    sample = "every dev trace" if per_set is None else f"the first {per_set} traces of each dev set"
    return (
        "## Live in the lab\n\n"
        f"bbb published live, re-cut to {SEGMENT_S:g} s segments, {sample} ({len(traces)}), "
        "default profile, one process (traces loaded beforehand). Means over sessions of each "
        "session's latency p95, bitrate, rebuffer ratio, seconds at a rate other than 1 and "
        "the grand challenge's NQoE.\n\n" + "\n".join(lines) + "\n"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--per-set", type=int, default=None, help="traces per dev set")
    args = parser.parse_args()
    shared = Path(__file__).resolve().parents[1].parent / "shared"
    if not shared.is_dir():
        print(f"{shared} is absent: the lab benchmarks need the dev traces", file=sys.stderr)
        return 1
    print(report(shared, args.per_set))
    return 0


if __name__ == "__main__":
    sys.exit(main())
