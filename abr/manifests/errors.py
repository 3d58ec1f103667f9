"""The one error every manifest parser raises: it names the source and what was wrong."""

from __future__ import annotations


class ManifestError(ValueError):
    def __init__(self, source: str, reason: str) -> None:
        self.source = source or "manifest"
        self.reason = reason
        super().__init__(f"{self.source}: {reason}")
