"""The one error every trace loader raises: it names the file and line, and what was wrong."""

from __future__ import annotations

MAX_REASON_CHARS = 300


class TraceError(ValueError):
    """`str()` is one line, `path:line: reason`, dropping whichever location part is unknown."""

    def __init__(self, reason: str, path: str | None = None, line: int | None = None) -> None:
        # Reasons quote user input; keep the message on one line whatever the input held,
        # and short when they quote a megabyte-long line.
        self.reason = _shorten(" ".join(reason.split()))
        self.path = path
        self.line = line
        super().__init__(self._message())

    def _message(self) -> str:
        where = [str(part) for part in (self.path, self.line) if part is not None]
        if self.path is None and self.line is not None:
            where = [f"line {self.line}"]
        return ": ".join([":".join(where), self.reason]) if where else self.reason

    def __reduce__(self) -> tuple[type[TraceError], tuple[str, str | None, int | None]]:
        # Worker processes (simulator.compare) send errors back pickled; keep the fields.
        return (type(self), (self.reason, self.path, self.line))


def _shorten(reason: str) -> str:
    # Traces may hold megabyte-long lines: a reason quoting one is cut (traces import no other
    # package of the project, so this is not abr.errors.shorten).
    if len(reason) <= MAX_REASON_CHARS:
        return reason
    return reason[: MAX_REASON_CHARS - 3] + "..."
