"""Turn an `--abr` spec into an algorithm factory: a built-in name or `package.module:Class`."""

from __future__ import annotations

import ast
import importlib
import inspect
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from abr.algorithm import AbrAlgorithm
from abr.errors import InputError
from abr.registry import BUILTIN, Profile, create


class AlgorithmSpecError(InputError, ValueError):
    """An --abr spec that names no algorithm (unknown name, module or class)."""


AlgorithmFactory = Callable[[], AbrAlgorithm]


def resolve(spec: str, profile: Profile | None = None, **params: Any) -> AlgorithmFactory:
    """A zero-argument factory for `spec`; checks the spec now so errors surface early."""
    if ":" not in spec:
        if spec not in BUILTIN:
            known = ", ".join(sorted(BUILTIN))
            raise AlgorithmSpecError(
                f"unknown ABR algorithm {spec!r}: use one of {known} or package.module:Class"
            )
        return lambda: create(spec, profile, **params)
    module_name, _, class_name = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise AlgorithmSpecError(f"cannot import {module_name!r} for --abr {spec}: {exc}") from exc
    cls = getattr(module, class_name, None)
    if not (isinstance(cls, type) and issubclass(cls, AbrAlgorithm)):
        raise AlgorithmSpecError(
            f"{spec}: {class_name!r} is not an abr.algorithm.AbrAlgorithm subclass in {module_name}"
        )
    return lambda: cls(**params)


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
