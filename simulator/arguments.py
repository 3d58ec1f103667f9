"""The keyword arguments an algorithm class accepts (what `sweep --param` checks against).

Outside `abr/`: a compiled class's arguments are read from its source file.
"""

from __future__ import annotations

import ast
import inspect
import sys
from pathlib import Path

from abr.algorithm import AbrAlgorithm
from abr.registry import AlgorithmSpecError


def constructor_arguments(cls: type[AbrAlgorithm]) -> set[str]:
    """The keyword arguments `cls(...)` accepts, compiled (mypyc) or not.

    A mypyc-compiled class reports `__init__(*args, **kwargs)` to `inspect`, so its arguments
    are read from the source it was compiled from, which stays beside the extension module.
    """
    for klass in cls.__mro__:
        if "__init__" not in vars(klass):
            continue
        init = vars(klass)["__init__"]
        if inspect.isfunction(init):
            return set(inspect.signature(init).parameters) - {"self"}
        if klass is object:
            return set()
        return _arguments_in_source(klass)
    return set()


def _arguments_in_source(klass: type) -> set[str]:
    module = sys.modules[klass.__module__]
    source = Path(module.__file__ or "").with_name(klass.__module__.rpartition(".")[2] + ".py")
    try:
        tree = ast.parse(source.read_text())
    except OSError as exc:
        raise AlgorithmSpecError(
            f"cannot read the arguments of compiled {klass.__qualname__}: {exc}"
        ) from exc
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == klass.__name__:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    return {a.arg for a in args.args + args.kwonlyargs} - {"self"}
    raise AlgorithmSpecError(f"no __init__ of {klass.__qualname__} in {source}")
