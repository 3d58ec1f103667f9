"""Guard against stale mypyc builds: a compiled module shadows its source, edited or not."""

from __future__ import annotations

import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HOT_PATH_PACKAGES = ("abr", "simulator")


def stale_compiled_modules(root: Path = ROOT) -> list[str]:
    """Source files edited after `make compile` built them (their .so would run instead)."""
    stale = []
    for package in HOT_PATH_PACKAGES:
        for built in (root / package).rglob("*.so"):
            source = built.parent / (built.name.split(".", 1)[0] + ".py")
            if source.is_file() and source.stat().st_mtime > built.stat().st_mtime:
                stale.append(str(source.relative_to(root)))
    return sorted(stale)


def compiled_modules() -> list[str]:
    """Modules of the hot path imported so far that run compiled (loaded from an extension
    file), by name: what actually runs, wherever `make compile` put it."""
    loaded = []
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] not in HOT_PATH_PACKAGES:
            continue
        origin = getattr(module, "__file__", None) or ""
        if origin.endswith(tuple(EXTENSION_SUFFIXES)):
            loaded.append(name)
    return sorted(loaded)
