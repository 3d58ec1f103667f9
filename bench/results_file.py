"""bench/results.md as sections: a `## ` heading line and everything up to the next one.

`make bench` writes the whole file; `make fuzz` and `python -m bench.run --only` replace the
sections they re-ran, by heading line, and keep the rest.
"""

from __future__ import annotations


def sections(text: str) -> list[str]:
    """The `## ` sections of `text`, in order (anything before the first is left out)."""
    starts = _heading_starts(text)
    return [text[a:b] for a, b in zip(starts, [*starts[1:], len(text)], strict=True)]


def section(text: str, heading: str) -> str | None:
    """The section whose heading line is `heading`, if any."""
    return next((s for s in sections(text) if s.split("\n", 1)[0] == heading), None)


def with_section(text: str, new: str) -> str:
    """`text` with the section of `new`'s heading line replaced by `new`, or `new` appended."""
    new = new.rstrip("\n") + "\n"
    heading = new.split("\n", 1)[0]
    starts = _heading_starts(text)
    for k, start in enumerate(starts):
        if text[start:].split("\n", 1)[0] == heading:
            end = starts[k + 1] if k + 1 < len(starts) else len(text)
            rest = text[end:]
            return text[:start] + new + ("\n" + rest if rest else "")
    return text.rstrip("\n") + "\n\n" + new


def _heading_starts(text: str) -> list[int]:
    starts = [0] if text.startswith("## ") else []
    at = text.find("\n## ")
    while at >= 0:
        starts.append(at + 1)
        at = text.find("\n## ", at + 1)
    return starts
