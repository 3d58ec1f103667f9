"""Find trace files, detect their format from their content, and load them."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from traces.errors import TraceError
from traces.formats import csv_format, mahimahi, pensieve, sabre_json
from traces.trace import Trace

PARSERS = {
    "sabre": sabre_json.parse,
    "pensieve": pensieve.parse,
    "mahimahi": mahimahi.parse,
    "csv": csv_format.parse,
}
SKIPPED_PREFIXES = ("readme", "license", "sabre-license", ".")


def detect_format(text: str, path: str | None = None) -> str:
    stripped = text.lstrip()
    if not stripped:
        raise TraceError("empty file", path)
    if stripped[0] in "[{":
        return "sabre"  # its parser reports malformed JSON with the line
    first = next(line for line in stripped.splitlines() if line.strip())
    if any(c.isalpha() for c in first) and "," in first:
        return "csv"
    fields = first.split()
    if len(fields) == 1 and fields[0].lstrip("-").isdigit():
        return "mahimahi"
    if len(fields) == 2:
        return "pensieve"
    raise TraceError(f"unknown trace format (first line {first.strip()[:60]!r})", path, 1)


def load_trace(
    path: str | Path, format: str | None = None, *, set_name: str | None = None
) -> Trace:
    path = Path(path)
    where = str(path)
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise TraceError("no such file", where) from None
    except UnicodeDecodeError:
        raise TraceError("not a text file", where) from None
    except OSError as exc:
        raise TraceError(f"cannot read ({exc.strerror})", where) from None
    kind = format or detect_format(text, where)
    try:
        parse = PARSERS[kind]
    except KeyError:
        raise TraceError(f"unknown format {kind!r} (known: {', '.join(PARSERS)})", where) from None
    name = path.name
    folder = set_name if set_name is not None else path.parent.name
    return parse(text, name=name, set_name=folder, path=where)


def iter_trace_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders expanded (not recursively) to their trace files, by name."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.iterdir())
                if p.is_file() and not p.name.lower().startswith(SKIPPED_PREFIXES)
            )
        elif path.is_file():
            files.append(path)
        else:
            raise TraceError("no such file or folder", str(path))
    return files


def load_traces(paths: Iterable[str | Path], format: str | None = None) -> list[Trace]:
    return [load_trace(p, format) for p in iter_trace_files(paths)]
