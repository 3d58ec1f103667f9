"""`--param` checks need an algorithm's arguments, also when mypyc compiled the class."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

from abr.registry import BUILTIN
from simulator.arguments import constructor_arguments


def test_builtin_arguments_are_their_init_keywords() -> None:
    assert {"gamma_p", "dynamic_vp"} <= constructor_arguments(BUILTIN["bola"])
    assert {"slow_link_ratio", "switch_weight"} <= constructor_arguments(BUILTIN["streamlab"])
    assert "self" not in constructor_arguments(BUILTIN["streamlab"])


def test_a_compiled_init_is_read_from_the_source_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "native_abr.py").write_text(
        "from abr.algorithm import AbrAlgorithm\n"
        "class Native(AbrAlgorithm):\n"
        "    def __init__(self, reach: float = 1.0, *, depth: int = 2) -> None:\n"
        "        pass\n"
        "    def choose(self, ctx):\n"
        "        return 0\n"
        "class Child(Native):\n"
        "    pass\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    module = importlib.import_module("native_abr")
    # What mypyc leaves to `inspect`: an __init__ that is not a Python function.
    monkeypatch.setattr(module.Native, "__init__", object.__init__)
    try:
        assert constructor_arguments(module.Native) == {"reach", "depth"}
        assert constructor_arguments(module.Child) == {"reach", "depth"}  # inherited
    finally:
        sys.modules.pop("native_abr", None)
