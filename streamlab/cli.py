"""The `streamlab` command: one sub-command per module in `streamlab.commands`.

Only the module of the command being run is imported, so the lab's commands work on the core
install (no Qt, libmpv, Dask or backend packages); a command whose extra is missing says which
one to install, in one line, exit code 2.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial

from abr.errors import InputError
from backend_stub.errors import BackendError
from streamlab.compiled import stale_compiled_modules
from traces.errors import TraceError

# Every package's input errors derive from one of these: the trace loaders and the backend
# import nothing from abr/, so they keep their own bases.
INPUT_ERRORS = (InputError, TraceError, BackendError)


@dataclass(frozen=True)
class Command:
    name: str
    module: str  # exposes `register(subparsers)`, which adds the parser and sets `func`
    extra: str  # the pyproject extra it needs beyond the core lab ("" for none)
    summary: str
    optional: tuple[str, ...] = ()  # extras only some of its options need


COMMANDS = (
    Command(
        "simulate", "streamlab.commands.simulate", "", "simulate one session and print its QoE"
    ),
    Command("compare", "streamlab.commands.compare", "", "compare ABR algorithms over trace sets"),
    Command("traces", "streamlab.commands.traces", "", "inspect network traces"),
    Command(
        "demo",
        "streamlab.commands.demo",
        "",
        "compare the built-in algorithms and the offline optimum on synthetic traces",
    ),
    Command(
        "sweep",
        "streamlab.commands.sweep",
        "sweep",
        "run a parameter grid on Dask, results to Parquet",
    ),
    Command(
        "report", "streamlab.commands.report", "", "an HTML report from sweep or compare results"
    ),
    Command(
        "reproduce",
        "streamlab.commands.reproduce",
        "",
        "re-run a recorded compare or sweep and check its results are the same, byte for byte",
    ),
    Command("play", "streamlab.commands.play", "player", "play an HLS or DASH URL"),
    Command(
        "serve",
        "streamlab.commands.serve",
        "backend",
        "run the reference backend and CDN on 127.0.0.1",
    ),
    Command(
        "ingest",
        "streamlab.commands.ingest",
        "backend",
        "upload a video to `streamlab serve` and wait until READY",
    ),
    Command(
        "qa",
        "streamlab.commands.qa",
        "qa",
        "real playback sessions over trace-shaped links, gated on QoE targets",
        optional=("sweep",),  # --workers, --scheduler
    ),
)

# Third-party packages of the extras, for the message when a core command misses one
# (`report` on a sweep folder reads Parquet); a command with its own extra names that one.
EXTRA_OF_PACKAGE = {
    "distributed": "sweep",
    "dask": "sweep",
    "pyarrow": "sweep",
    "gymnasium": "rl",
    "mpv": "player",
    "PySide6": "player",
    "httpx": "player",
    "fastapi": "backend",
    "uvicorn": "backend",
    "sqlalchemy": "backend",
    "jwt": "backend",
    "argon2": "backend",
    "boto3": "backend",
    "psycopg": "backend",
    "psutil": "qa",
}


class MissingExtra(Exception):
    """A command needs a package (or libmpv) that this install does not have."""


def _chosen(argv: Sequence[str]) -> Command | None:
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    return next((c for c in COMMANDS if c.name == first), None)


def _missing(command: Command, exc: BaseException) -> MissingExtra | None:
    if isinstance(exc, OSError) and "libmpv" in str(exc):
        return MissingExtra("libmpv is not installed (Debian/Ubuntu: apt-get install libmpv2)")
    if not isinstance(exc, ImportError):
        return None
    name = (exc.name or "").split(".")[0]
    if not name:  # pandas names an optional dependency only in its message
        name = next((pkg for pkg in EXTRA_OF_PACKAGE if f"'{pkg}'" in str(exc)), "")
    if not name or name in {"abr", "simulator", "emulator", "traces", "player", "qa"}:
        return None
    needed = EXTRA_OF_PACKAGE.get(name)
    extra = needed if needed in command.optional else command.extra or needed or "all"
    return MissingExtra(
        f"needs the '{extra}' extra ({name} is not installed): pip install 'streamlab[{extra}]'"
    )


def _guarded(command: Command, run: Callable[[], object]) -> object:
    try:
        return run()
    except (ImportError, OSError) as exc:
        missing = _missing(command, exc)
        if missing is None:
            raise
        raise missing from exc


def build_parser(chosen: Command | None = None) -> argparse.ArgumentParser:
    """The full parser of the `chosen` command; the others as one-line entries."""
    parser = argparse.ArgumentParser(
        prog="streamlab",
        description="A video player with its own ABR engine, an ABR lab, and a reference backend/CDN.",
        epilog="streamlab COMMAND --help shows a command's options.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        if command == chosen:
            module = _guarded(command, partial(importlib.import_module, command.module))
            module.register(subparsers)  # type: ignore[attr-defined]
        else:
            subparsers.add_parser(command.name, help=command.summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    stale = stale_compiled_modules()
    if stale:
        print(
            f"streamlab: error: compiled modules are older than their source ({', '.join(stale)}); "
            "run 'make compile' again or 'make clean-compiled'",
            file=sys.stderr,
        )
        return 2
    chosen = _chosen(argv)
    name = chosen.name if chosen else ""
    try:
        parser = build_parser(chosen)
        args = parser.parse_args(argv)
        args.argv = tuple(argv)  # as typed: what a command records as its provenance
        assert chosen is not None  # argparse refused anything else
        code = _guarded(chosen, lambda: args.func(args))
    except MissingExtra as exc:
        print(f"streamlab {name}: error: {exc}", file=sys.stderr)
        return 2
    except INPUT_ERRORS as exc:
        # One line whatever the message held (a tool's stderr, a quoted bit of a file), exit
        # code 2; any other error is a bug and keeps its traceback.
        message = " ".join(str(exc).split()) or type(exc).__name__
        print(f"streamlab {name}: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"streamlab {name}: interrupted", file=sys.stderr)
        return 130
    assert isinstance(code, int)
    return code


if __name__ == "__main__":
    sys.exit(main())
