"""`streamlab reproduce DIR`: re-run a recorded compare or sweep into a temporary folder and
check that its results are the same, byte for byte.

Exit codes: 0 the same; 1 they differ (the first differing row is named); 2 the run cannot be
reproduced: an input's SHA-256 no longer matches (the file is named), the folder holds no
provenance record, or it holds a qa run (real sessions in real time: the plan can be re-run,
its measurements cannot be repeated byte for byte).

A sweep's parts are written as tasks finish, so they are compared as one table sorted by
session (video, trace set, trace, algorithm, parameters), each value as Python writes a float
(shortest round-trip); a compare's results.csv is already in input order.
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from simulator.sweep import KEY_COLUMNS, read_results
from streamlab.errors import UsageError
from streamlab.provenance import Provenance, current_revision, read, sha256_of

REPRODUCIBLE = ("compare", "demo", "sweep")
IDENTITY = ("video", "trace_set", "trace", "abr", "params")  # the columns that name a row


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = subparsers.add_parser(
        "reproduce",
        help="re-run a recorded compare or sweep and check its results are the same, byte for byte",
    )
    p.add_argument("results", type=Path, metavar="DIR", help="a compare, demo or sweep output")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    folder: Path = args.results
    records = read(folder)
    first = records[0]
    if first.kind == "qa":
        raise UsageError(
            f"{folder}: a qa run plays real sessions in real time, so its results cannot be "
            f"reproduced byte for byte; re-run `{first.command_line}` and compare the figures"
        )
    if first.kind not in REPRODUCIBLE:
        raise UsageError(f"{folder}: a {first.kind} output; reproduce the results it was made from")
    base = Path(first.cwd) if Path(first.cwd).is_dir() else Path.cwd()
    check_inputs(records, base)
    warn_if_other_streamlab(records)
    with tempfile.TemporaryDirectory(prefix="streamlab-reproduce-") as tmp:
        rerun(first, Path(tmp), base)
        check_same_inputs(records, read(Path(tmp)))
        name, recorded = results_text(folder, first.kind)
        _, reproduced = results_text(Path(tmp), first.kind)
    difference = first_difference(name, recorded, reproduced)
    if difference is not None:
        print(f"streamlab reproduce: {difference}", file=sys.stderr)
        return 1
    rows = max(recorded.count("\n") - 1, 0)
    print(f"reproduced: {name} is the same, byte for byte ({rows} rows): {first.command_line}")
    return 0


def check_inputs(records: Sequence[Provenance], base: Path) -> None:
    """Every file the run read still has the SHA-256 it had, else the re-run would read
    something else: a UsageError (exit 2) naming the file."""
    seen: set[tuple[str, str]] = set()
    for item in (item for r in records for item in r.inputs):
        if (item.path, item.sha256) in seen:
            continue
        seen.add((item.path, item.sha256))
        path = base / item.path
        if not path.is_file():
            raise UsageError(f"{item.role} {item.path} is gone since the results were recorded")
        now = sha256_of(path)
        if now != item.sha256:
            raise UsageError(
                f"{item.role} {item.path} changed since the results were recorded "
                f"(SHA-256 {item.sha256[:12]}..., now {now[:12]}...)"
            )


def check_same_inputs(records: Sequence[Provenance], rerun: Sequence[Provenance]) -> None:
    """The re-run read no file the recorded run did not (a trace added to a folder it was
    given, say): a UsageError (exit 2) naming the first."""
    recorded = {(i.role, i.path) for r in records for i in r.inputs}
    for item in (item for r in rerun for item in r.inputs):
        if (item.role, item.path) not in recorded:
            raise UsageError(
                f"{item.role} {item.path} was not among the inputs when the results were recorded"
            )


def warn_if_other_streamlab(records: Sequence[Provenance]) -> None:
    now = current_revision()
    for revision in dict.fromkeys(r.revision for r in records):
        if revision != now:
            print(
                f"streamlab reproduce: warning: recorded with {revision}; this is {now} "
                "(comparing anyway)",
                file=sys.stderr,
            )
    commands = {_without_resume(r.args) for r in records}
    if len(commands) > 1:
        print(
            f"streamlab reproduce: warning: the parts come from {len(commands)} different "
            f"commands; re-running the first: {records[0].command_line}",
            file=sys.stderr,
        )


def rerun(record: Provenance, out: Path, base: Path) -> None:
    """The recorded command with its output folder replaced by `out`, from the folder it ran
    in and with the module path it had (for `--abr package.module:Class`)."""
    args = _with_out(_without_resume(record.args), out)
    env = dict(os.environ)
    if record.pythonpath is not None:
        env["PYTHONPATH"] = record.pythonpath
    done = subprocess.run(
        [sys.executable, "-m", "streamlab.cli", *args],
        cwd=base,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no message"])[-1]
        raise UsageError(f"the re-run of `{record.command_line}` failed: {last}")


def _without_resume(args: Sequence[str]) -> tuple[str, ...]:
    # A resumed sweep's parts add up to one whole run: re-run it whole.
    return tuple(a for a in args if a != "--resume")


def _with_out(args: Sequence[str], out: Path) -> list[str]:
    """`args` with --out's value (however spelled: --out X, --out=X, an abbreviation such as
    --ou) replaced by `out`, or --out added."""
    replaced: list[str] = []
    skip_value = False
    found = False
    for arg in args:
        if skip_value:
            skip_value = False
            continue
        option, equals, _ = arg.partition("=")
        if len(option) >= 4 and "--out".startswith(option):
            found = True
            replaced += ["--out", str(out)]
            skip_value = not equals
            continue
        replaced.append(arg)
    return replaced if found else [*replaced, "--out", str(out)]


def results_text(folder: Path, kind: str) -> tuple[str, str]:
    """(name, text) of the results to compare: a compare's results.csv as written; a sweep's
    parts as one CSV sorted by session."""
    if kind != "sweep":
        path = folder / "results.csv"
        if not path.is_file():
            raise UsageError(f"{folder}: no results.csv")
        return "results.csv", path.read_text(encoding="utf-8")
    frame = read_results(folder)
    ordered = frame.sort_values(list(KEY_COLUMNS), kind="stable").reset_index(drop=True)
    return "the sweep's results", ordered.to_csv(index=False, lineterminator="\n")


def first_difference(name: str, recorded: str, reproduced: str) -> str | None:
    """None when the texts are the same; else where they first differ, by row and column."""
    if recorded == reproduced:
        return None
    old = list(csv.reader(recorded.splitlines()))
    new = list(csv.reader(reproduced.splitlines()))
    if not old or not new or old[0] != new[0]:
        return f"{name}: the columns differ (recorded {_head(old)}, reproduced {_head(new)})"
    header = old[0]
    for number, (was, now) in enumerate(zip(old[1:], new[1:], strict=False), start=1):
        if was != now:
            column = next(
                (i for i, (a, b) in enumerate(zip(was, now, strict=False)) if a != b),
                min(len(was), len(now)),
            )
            which = header[column] if column < len(header) else f"column {column + 1}"
            return (
                f"{name}: row {number} ({_identity(header, was)}) differs first in {which}: "
                f"recorded {_cell(was, column)}, reproduced {_cell(now, column)}"
            )
    if len(old) != len(new):
        return f"{name}: {len(old) - 1} rows recorded, {len(new) - 1} reproduced"
    return f"{name}: same rows, different bytes (line endings or quoting)"


def _identity(header: list[str], row: list[str]) -> str:
    named = [f"{c} {row[header.index(c)]}" for c in IDENTITY if c in header]
    return ", ".join(named) or "unnamed"


def _cell(row: list[str], column: int) -> str:
    return repr(row[column]) if column < len(row) else "nothing"


def _head(rows: list[list[str]]) -> str:
    return ",".join(rows[0]) if rows else "nothing"
