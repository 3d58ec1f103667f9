"""Guard against stale mypyc builds: a compiled module shadows its source, edited or not."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def stale_compiled_modules(root: Path = ROOT) -> list[str]:
    """Source files edited after `make compile` built them (their .so would run instead)."""
    stale = []
    for package in ("abr", "simulator"):
        for built in (root / package).rglob("*.so"):
            source = built.parent / (built.name.split(".", 1)[0] + ".py")
            if source.is_file() and source.stat().st_mtime > built.stat().st_mtime:
                stale.append(str(source.relative_to(root)))
    return sorted(stale)
