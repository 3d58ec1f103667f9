"""Find trace files, detect their format from their content, and load them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path

from traces.errors import TraceError
from traces.formats import bandwidth_log, csv_format, mahimahi, pensieve, sabre_json
from traces.trace import Trace

PARSERS: dict[str, Callable[..., Trace]] = {
    "sabre": sabre_json.parse,
    "pensieve": pensieve.parse,
    "mahimahi": mahimahi.parse,
    "csv": csv_format.parse,
    "bandwidth-log": bandwidth_log.parse,
}
# Files that travel with trace sets but are not traces (README.md, LICENSE, SABRE-LICENSE...).
NOT_TRACES = (".", "readme", "license", "licence", "copying", "notice")


def detect_format(text: str, path: str | None = None) -> str:
    """The format name, from the first non-blank line; the parser then checks every line."""
    lines = text.lstrip("\ufeff").splitlines()
    number = next((n for n, line in enumerate(lines, start=1) if line.strip()), None)
    if number is None:
        raise TraceError("empty file", path, 1)
    first = lines[number - 1].strip()
    if first[0] in "[{":
        return "sabre"  # its parser reports malformed JSON with the line
    if "," in first and any(c.isalpha() for c in first):
        return "csv"
    fields = first.split()
    if len(fields) == 1 and _is_number(fields[0], int):
        return "mahimahi"
    if len(fields) == 2 and all(_is_number(f, float) for f in fields):
        return "pensieve"
    if len(fields) == bandwidth_log.COLUMNS and all(_is_number(f, float) for f in fields):
        return "bandwidth-log"
    raise TraceError(f"unknown trace format (line {first[:60]!r})", path, number)


def load_trace(
    path: str | Path, format: str | None = None, *, set_name: str | None = None
) -> Trace:
    """One trace; its set is the folder it is in unless `set_name` says otherwise."""
    path = Path(path)
    where = str(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise TraceError("no such file", where) from None
    except IsADirectoryError:
        raise TraceError("is a folder, not a trace file", where) from None
    except OSError as exc:
        raise TraceError(f"cannot read ({exc.strerror})", where) from None
    try:
        text = data.decode("utf-8-sig")  # spreadsheets often prepend a byte-order mark
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise TraceError(f"not UTF-8 text (byte {data[exc.start]:#04x})", where, line) from None
    kind = format or detect_format(text, where)
    try:
        parse = PARSERS[kind]
    except KeyError:
        known = ", ".join(PARSERS)
        raise TraceError(f"unknown format {kind!r} (known: {known})", where) from None
    folder = set_name if set_name is not None else path.parent.name
    return parse(text, name=path.name, set_name=folder, path=where)


def iter_trace_files(paths: Iterable[str | Path]) -> list[Path]:
    """Files as given; folders expanded (not recursively) to their trace files, by name."""
    files: list[Path] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files.extend(p for p in sorted(path.iterdir()) if _is_trace_file(p))
        elif path.is_file():
            files.append(path)
        else:
            raise TraceError("no such file or folder", str(path))
    return files


def load_traces(paths: Iterable[str | Path], format: str | None = None) -> list[Trace]:
    return [load_trace(p, format) for p in iter_trace_files(paths)]


def _is_trace_file(path: Path) -> bool:
    name = path.name.lower()
    return path.is_file() and not name.startswith(NOT_TRACES) and "license" not in name


def _is_number(text: str, kind: Callable[[str], object]) -> bool:
    try:
        kind(text)
    except ValueError:
        return False
    return True
