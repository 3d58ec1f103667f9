"""`make bench`: run every benchmark and write bench/results.md (a table per benchmark).

`python -m bench.run --only NAME...` runs the benchmarks whose step name contains one of the
NAMEs (`--list` prints them) and replaces only their sections of bench/results.md, each marked
with the date it was re-run."""

from __future__ import annotations

import argparse
import importlib
import platform
import sys
import time
from collections.abc import Callable
from pathlib import Path

import abr.session
from bench import (
    fuzz,
    lab,
    lab_live,
    pensieve_baseline,
    prediction_ceiling,
    streamlab_tuning,
    unseen_families,
)
from bench.results_file import section, sections, with_section

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
OUT = ROOT / "bench" / "results.md"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--only", nargs="+", metavar="NAME", help="re-run only these steps")
    parser.add_argument("--list", action="store_true", help="print the step names and exit")
    args = parser.parse_args(argv)
    machine = f"{platform.node()} ({platform.processor() or platform.machine()})"
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    steps = _steps()
    if args.list:
        print("\n".join(name for name, _ in steps))
        return 0
    if args.only:
        chosen = [(n, step) for n, step in steps if any(part in n for part in args.only)]
        if not chosen:
            parser.error(f"--only {' '.join(args.only)}: no such step (--list names them)")
        text = OUT.read_text() if OUT.is_file() else "# streamlab benchmarks\n"
        note = f"_Re-run alone on {machine}, Python {platform.python_version()}, {when}._\n"
        for name, step in chosen:
            print(f"bench: {name} ...", file=sys.stderr, flush=True)
            for block in sections(step()):
                heading, _, body = block.partition("\n")
                text = with_section(text, f"{heading}\n\n{note}{body}")
        OUT.write_text(text)
        print(f"bench: updated {len(chosen)} step(s) in {OUT}", file=sys.stderr)
        return 0
    parts = [
        "# streamlab benchmarks\n",
        f"`make bench` on {machine}, Python {platform.python_version()}, {when}. "
        "Figures are from one run on a noisy shared machine: compare ratios, not absolutes.\n",
    ]
    for name, step in steps:
        print(f"bench: {name} ...", file=sys.stderr, flush=True)
        parts.append(step())
    # The fuzz campaign is `make fuzz`'s own (a long run): keep its last table.
    kept = section(OUT.read_text(), fuzz.HEADING) if OUT.is_file() else None
    if kept is not None:
        parts.append(kept)
    OUT.write_text("\n".join(parts))
    print(f"bench: wrote {OUT}", file=sys.stderr)
    return 0


def _steps() -> list[tuple[str, Callable[[], str]]]:
    # `make bench` compiles first; a step run alone may find the source interpreted.
    compiled = abr.session.__file__ is not None and abr.session.__file__.endswith(".so")
    build = " (mypyc-compiled)" if compiled else " (not compiled: `make compile` first)"
    steps: list[tuple[str, Callable[[], str]]] = []
    if SHARED.is_dir():
        steps += [
            ("lab speed, compiled", lambda: lab.speed(SHARED, build=build)),
            ("lab speed, interpreted", lambda: lab.speed_interpreted(SHARED)),
            ("mpc cost", lambda: lab.mpc_decision_cost(SHARED, build=build)),
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
        absent = f"## Lab\n\n_{SHARED} is absent: the lab benchmarks need the dev traces._\n"
        steps.append(("lab", lambda: absent))
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
    return steps


if __name__ == "__main__":
    sys.exit(main())
