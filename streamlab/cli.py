"""The `streamlab` command: one sub-command per module in `streamlab.commands`."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from abr.errors import InputError
from streamlab.compiled import stale_compiled_modules

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
    except InputError as exc:
        # Every package's input errors share this base: one line whatever the message held
        # (a tool's stderr, a quoted bit of the file), exit code 2; any other error is a bug.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"streamlab {args.command}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"streamlab {args.command}: interrupted", file=sys.stderr)
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
