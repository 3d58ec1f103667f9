"""Whitespace-separated text formats: their non-blank lines, split, with line numbers."""

from __future__ import annotations

from traces.errors import TraceError


def numbered_rows(text: str, path: str | None) -> list[tuple[int, list[str]]]:
    """(line number, fields) of every non-blank line; an empty trace is an error."""
    rows = [(n, line.split()) for n, line in enumerate(text.splitlines(), start=1)]
    rows = [(n, fields) for n, fields in rows if fields]
    if not rows:
        raise TraceError("empty trace", path, 1)
    return rows
