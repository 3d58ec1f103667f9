"""`make fuzz`: a long campaign of the fuzz targets (`pytest -m fuzz`), its table written as the
`## Fuzzing` section of bench/results.md (that section replaced, the rest left as it is).

    python -m bench.fuzz                   # 12,500 cases per target
    python -m bench.fuzz --examples 300    # a short run

Exit code: pytest's (non-zero when a target crashed or hung; the table is written either way).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.results_file import with_section

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results.md"
HEADING = "## Fuzzing"
# Cases per target: the loaders' eight targets alone then pass 100,000 inputs.
EXAMPLES = 12_500


def run_campaign(examples: int) -> tuple[int, dict[str, dict[str, float]], float]:
    """(pytest's exit code, the recorder's counts per target, wall seconds)."""
    with tempfile.TemporaryDirectory() as scratch:
        stats = Path(scratch) / "fuzz.json"
        env = {
            **os.environ,
            "STREAMLAB_FUZZ_EXAMPLES": str(examples),
            "STREAMLAB_FUZZ_STATS": str(stats),
        }
        started = time.monotonic()
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-m", "fuzz", "tests/fuzz"], cwd=ROOT, env=env
        )
        wall = time.monotonic() - started
        counts = json.loads(stats.read_text()) if stats.is_file() else {}
    return done.returncode, counts, wall


def table(counts: dict[str, dict[str, float]], examples: int, wall_s: float, code: int) -> str:
    lines = [
        f"{HEADING}\n",
        f"`make fuzz` ({time.strftime('%Y-%m-%d', time.gmtime())}): every target of `tests/fuzz` "
        f"with STREAMLAB_FUZZ_EXAMPLES={examples}; inputs are valid files and manifests damaged "
        "(`tests/fuzz/mutations.py`) or API requests. A domain error is the project's own refusal "
        "(TraceError, ManifestError, a 4xx); a crash is any other exception (or a 5xx), a hang "
        "a case over its time limit. Cases include those hypothesis ran while shrinking.\n",
        "| target | cases | domain errors | crashes | hangs | wall s |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    totals = [0, 0, 0, 0]
    for target, row in sorted(counts.items()):
        cells = [
            int(sum(row.get(o, 0) for o in ("ok", "domain_error", "crash", "hang"))),
            int(row.get("domain_error", 0)),
            int(row.get("crash", 0)),
            int(row.get("hang", 0)),
        ]
        totals = [a + b for a, b in zip(totals, cells, strict=True)]
        lines.append(
            f"| {target} | {cells[0]:,} | {cells[1]:,} | {cells[2]} | {cells[3]} | "
            f"{row.get('wall_s', 0.0):.1f} |"
        )
    lines.append(
        f"| **all** | **{totals[0]:,}** | {totals[1]:,} | {totals[2]} | {totals[3]} | {wall_s:.1f} |"
    )
    verdict = "passed" if code == 0 else f"FAILED (pytest exit code {code})"
    return "\n".join(lines) + f"\n\nThe campaign {verdict}.\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.fuzz", description=__doc__)
    parser.add_argument("--examples", type=int, default=EXAMPLES, help="cases per target")
    parser.add_argument("--out", type=Path, default=RESULTS, help="the results file to update")
    args = parser.parse_args(argv)
    code, counts, wall = run_campaign(args.examples)
    if not counts:
        print("bench.fuzz: no fuzz target reported (see pytest's output)", file=sys.stderr)
        return code or 1
    old = args.out.read_text() if args.out.is_file() else ""
    args.out.write_text(with_section(old, table(counts, args.examples, wall, code)))
    print(f"bench.fuzz: wrote the {HEADING!r} section of {args.out}", file=sys.stderr)
    return code


if __name__ == "__main__":
    sys.exit(main())
