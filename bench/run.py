"""`make bench`: run every benchmark and write bench/results.md (a table per benchmark)."""

from __future__ import annotations

import importlib
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

from bench import (
    fuzz,
    lab,
    lab_live,
    pensieve_baseline,
    prediction_ceiling,
    streamlab_tuning,
    unseen_families,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "results.md"


def main() -> int:
    sections = [
        "# streamlab benchmarks\n",
        f"`make bench` on {platform.node()} ({platform.processor() or platform.machine()}), "
        f"Python {platform.python_version()}, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}. "
        "Figures are from one run on a noisy shared machine: compare ratios, not absolutes.\n",
    ]
    steps: list[tuple[str, Callable[[], str]]] = []
    if SHARED.is_dir():
        steps += [
            ("lab speed, compiled", lambda: lab.speed(SHARED, build=" (mypyc-compiled)")),
            ("lab speed, interpreted", lambda: lab.speed_interpreted(SHARED)),
            ("mpc cost", lambda: lab.mpc_decision_cost(SHARED, build=" (mypyc-compiled)")),
            ("mpc cost, interpreted", lambda: lab.mpc_decision_cost_interpreted(SHARED)),
            (
                "mpc cost, interpreted, sabre",
                lambda: lab.mpc_decision_cost_interpreted(SHARED, "sabre"),
            ),
            ("validation", lambda: lab.validation(SHARED)),
            ("memory", lambda: lab.memory(SHARED)),
            ("sweep", lambda: lab.sweep_speed(SHARED)),
            ("optimum", lambda: lab.optimum_cost(SHARED)),
            ("live in the lab", lambda: lab_live.report(SHARED, per_set=20)),
            ("streamlab vs optimum", lambda: streamlab_tuning.report(SHARED)),
            ("streamlab vs optimum, sabre", lambda: streamlab_tuning.report(SHARED, "sabre")),
            (
                "streamlab vs optimum, bbb4k",
                lambda: streamlab_tuning.report(SHARED, video="bbb4k.json"),
            ),
            (
                "unseen link families",
                lambda: unseen_families.report(SHARED / "videos" / "bbb.json"),
            ),
            (
                "unseen link families, bbb4k",
                lambda: unseen_families.report(SHARED / "videos" / "bbb4k.json", scale=6.0),
            ),
            (
                "prediction ceiling",
                lambda: prediction_ceiling.report(
                    SHARED, prediction_ceiling.WINDOWS_S, "validation"
                ),
            ),
            ("pensieve beside the others", lambda: pensieve_baseline.report(SHARED)),
        ]
    else:
        sections.append(f"_{SHARED} is absent: the lab benchmarks need the dev traces._\n")
    for optional in (
        "bench.backend",
        "bench.player",
        "bench.live",
        "bench.qa",
        "bench.qa_live",
        "bench.qa_dask",
    ):
        try:
            module = importlib.import_module(optional)
        except ImportError:
            continue
        steps.append((optional, lambda m=module: str(m.run(ROOT / "bench"))))
    for name, step in steps:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        sections.append(step())
    # The fuzz campaign is `make fuzz`'s own (a long run): keep its last table.
    kept = fuzz.section(OUT.read_text()) if OUT.is_file() else None
    if kept is not None:
        sections.append(kept)
    OUT.write_text("\n".join(sections))
    print(f"bench: wrote {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
