"""The trained RL policy (`pensieve`) beside the classics, streamlab and the offline optimum.

    python -m bench.pensieve_baseline [--jobs N]

On both halves of the dev split (`bench.streamlab_tuning`: sets weigh equally) and on the
synthetic link families of `bench.unseen_families` (seed 0; the policy trained on other draws
of the same generators, `bench.train_pensieve`). Gap closed is measured from the best classic
of the split (the one of `bench.streamlab_tuning.CLASSICS` with the highest mean QoE_lin) to
the optimum, as everywhere else in docs/research.md; negative means below that classic.
`pensieve` would become the default only if it beat streamlab on validation.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

from bench import streamlab_tuning, unseen_families
from bench.streamlab_tuning import CANDIDATE, CLASSICS, gap_closed

LEARNED = "pensieve"
ALGORITHMS = ("throughput", "bba", "bola", "bolae", "dynamic", "robustmpc", CANDIDATE, LEARNED)


def table(frame: pd.DataFrame) -> str:
    """One row per algorithm and the optimum: means over the sets (or families) of `frame`."""
    qoe = frame.pivot_table(index="trace_set", columns="abr", values="qoe_lin").mean()
    rebuffer = frame.pivot_table(index="trace_set", columns="abr", values="rebuffer_ratio").mean()
    optimum = (
        frame.drop_duplicates(["trace_set", "trace"]).groupby("trace_set").optimal_qoe_lin.mean()
    ).mean()
    best = qoe[list(CLASSICS)].idxmax()
    lines = [
        f"| algorithm | QoE_lin | gap closed (from {best}) | rebuffer |",
        "|---|---|---|---|",
    ]
    for name in ALGORITHMS:
        label = f"**{name}**" if name == LEARNED else name
        lines.append(
            f"| {label} | {qoe[name]:.3f} | {gap_closed(qoe[best], qoe[name], optimum)} | "
            f"{100 * rebuffer[name]:.2f} % |"
        )
    lines.append(f"| optimum | {optimum:.3f} | 100 % | |")
    return "\n".join(lines) + "\n"


def per_set(frame: pd.DataFrame) -> str:
    """pensieve against streamlab and the set's best classic, set by set."""
    qoe = frame.pivot_table(index="trace_set", columns="abr", values="qoe_lin")
    rebuffer = frame.pivot_table(index="trace_set", columns="abr", values="rebuffer_ratio")
    lines = [
        "| set | best classic | streamlab | pensieve | pensieve rebuffer | pensieve - streamlab |",
        "|---|---|---|---|---|---|",
    ]
    for name, row in qoe.iterrows():
        local = row[list(CLASSICS)].astype(float).idxmax()
        lines.append(
            f"| {name} | {local} {row[local]:.3f} | {row[CANDIDATE]:.3f} | {row[LEARNED]:.3f} | "
            f"{100 * rebuffer.at[name, LEARNED]:.2f} % | {row[LEARNED] - row[CANDIDATE]:+.3f} |"
        )
    return "\n".join(lines) + "\n"


def verdict(validation: pd.DataFrame) -> str:
    qoe = validation.pivot_table(index="trace_set", columns="abr", values="qoe_lin").mean()
    best = qoe[list(CLASSICS)].idxmax()
    wins = qoe[LEARNED] > qoe[CANDIDATE]
    return (
        f"On validation pensieve scores {qoe[LEARNED]:.3f} against streamlab's "
        f"{qoe[CANDIDATE]:.3f} and {best}'s {qoe[best]:.3f}: it "
        + ("wins on validation." if wins else "does not win; streamlab stays the default.")
    )


def report(shared: Path, jobs: int | None = None) -> str:
    start = time.perf_counter()
    dev = streamlab_tuning.run(shared, jobs=jobs, algorithms=ALGORITHMS)
    families = unseen_families.run(shared / "videos" / "bbb.json", jobs=jobs, algorithms=ALGORITHMS)
    elapsed = time.perf_counter() - start
    parts = [
        "## pensieve (PPO) beside the classics, streamlab and the optimum (bbb.json, default "
        "profile)\n",
        f"{len(dev) + len(families)} sessions in {elapsed:.0f} s; QoE_lin and rebuffer ratio are "
        "means over sets of per-set means.\n",
    ]
    for split in ("train", "validation"):
        part = dev[dev.split == split]
        parts += [f"### Dev {split} halves\n", table(part), per_set(part)]
    parts += [
        "### Synthetic families (`traces.synthetic.families(16, seed=0)`)\n",
        table(families),
        per_set(families),
        verdict(dev[dev.split == "validation"]) + "\n",
    ]
    return "\n".join(parts)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[2] / "shared")
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    print(report(args.shared, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
