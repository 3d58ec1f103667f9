"""The one error every trace loader raises: it names the file and line, and what was wrong."""

from __future__ import annotations


class TraceError(ValueError):
    def __init__(self, reason: str, path: str | None = None, line: int | None = None) -> None:
        self.reason = reason
        self.path = path
        self.line = line
        where = path or "trace"
        if line is not None:
            where = f"{where}:{line}"
        super().__init__(f"{where}: {reason}")
