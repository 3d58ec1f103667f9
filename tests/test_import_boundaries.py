"""The architecture's import rules (docs/architecture.md), checked on every import statement,
including those inside functions: a driver's code never leaks into the sans-I/O core, the
player ships without the lab and the backend, and the backend without the player."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# package -> the top-level packages it must never import
FORBIDDEN: dict[str, set[str]] = {
    "abr": {"simulator", "emulator", "player", "qa", "backend_stub", "streamlab", "traces"},
    "player": {"simulator", "backend_stub", "qa", "streamlab"},
    "backend_stub": {"abr", "player", "simulator", "emulator", "qa", "streamlab"},
    "traces": {"abr", "simulator", "emulator", "player", "qa", "backend_stub", "streamlab"},
    "simulator": {"player", "emulator", "backend_stub", "qa", "streamlab"},
    "emulator": {"abr", "simulator", "player", "backend_stub", "qa", "streamlab"},
}
# The sans-I/O rule: no sockets, clocks, threads, Qt, HTTP or files from the standard library
# or the packages that provide them.
SANS_IO_FORBIDDEN = {
    "socket", "asyncio", "threading", "time", "httpx", "PySide6", "mpv", "subprocess",
    "select", "selectors", "urllib.request", "http", "os", "shutil", "pathlib", "io",
}  # fmt: skip


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module))
    return found


def _violations(package: str, banned: set[str]) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for line, module in _imports(path):
            if any(module == b or module.startswith(b + ".") for b in banned):
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_what_its_layer_allows(package: str) -> None:
    assert _violations(package, FORBIDDEN[package]) == []


def test_abr_is_sans_io() -> None:
    assert _violations("abr", SANS_IO_FORBIDDEN) == []


def test_the_check_sees_imports_inside_functions(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from simulator.run import simulate\n")
    assert _imports(module) == [(2, "simulator.run")]


def test_no_command_imports_another_command() -> None:
    # Shared console pieces live in lab_console (not a command); commands stay independent so
    # the CLI can import only the one being run.
    commands = ROOT / "streamlab" / "commands"
    bad = []
    for path in sorted(commands.glob("*.py")):
        for line, module in _imports(path):
            if (
                module.startswith("streamlab.commands.")
                and module != "streamlab.commands.lab_console"
            ):
                bad.append(f"{path.relative_to(ROOT)}:{line}: imports {module}")
    assert bad == []
