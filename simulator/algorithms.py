"""Turn an `--abr` spec into an algorithm factory: a built-in name or `package.module:Class`."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from abr.algorithm import AbrAlgorithm
from abr.registry import BUILTIN, Profile, create


class AlgorithmSpecError(ValueError):
    pass


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
