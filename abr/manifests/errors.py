"""The one error every manifest parser raises: it names the source and what was wrong."""

from __future__ import annotations

from abr.errors import InputError, shorten


class ManifestError(InputError, ValueError):
    """A manifest that cannot become a `Presentation`.

    `str()` is a single line, "SOURCE: line N: reason" (the line part only when known), so a
    CLI can print it as is. A ValueError subclass: callers that only catch ValueError still work.
    """

    def __init__(self, source: str, reason: str, line: int | None = None) -> None:
        self.source = source or "manifest"
        # Reasons sometimes quote a parser's message or a bit of the input: keep them to one line.
        self.reason = shorten(" ".join(str(reason).split()))
        self.line = line
        where = f"line {line}: " if line is not None else ""
        super().__init__(f"{self.source}: {where}{self.reason}")

    def __reduce__(self) -> tuple[type[ManifestError], tuple[str, str, int | None]]:
        # Exceptions pickle as cls(*args); ours has a different signature (multiprocessing sweeps).
        return (type(self), (self.source, self.reason, self.line))
