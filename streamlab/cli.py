"""The `streamlab` command: one sub-command per module in `streamlab.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from abr.errors import InputError
from backend_stub.errors import BackendError
from streamlab.compiled import stale_compiled_modules
from traces.errors import TraceError

# Every package's input errors derive from one of these: the trace loaders and the backend
# import nothing from abr/, so they keep their own bases.
INPUT_ERRORS = (InputError, TraceError, BackendError)

# Each module exposes `register(subparsers)`, which adds its parser and sets `func`
# (args -> exit code) as the default for that parser.
COMMAND_MODULES = (
    "streamlab.commands.simulate",
    "streamlab.commands.compare",
    "streamlab.commands.traces",
    "streamlab.commands.demo",
    "streamlab.commands.sweep",
    "streamlab.commands.report",
    "streamlab.commands.play",
    "streamlab.commands.serve",
    "streamlab.commands.ingest",
    "streamlab.commands.qa",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="streamlab", description=__doc__)
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    stale = stale_compiled_modules()
    if stale:
        print(
            f"streamlab: error: compiled modules are older than their source ({', '.join(stale)}); "
            "run 'make compile' again or 'make clean-compiled'",
            file=sys.stderr,
        )
        return 2
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code: int = args.func(args)
    except INPUT_ERRORS as exc:
        # One line whatever the message held (a tool's stderr, a quoted bit of a file), exit
        # code 2; any other error is a bug and keeps its traceback.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"streamlab {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"streamlab {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
