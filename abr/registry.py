"""Algorithms by name: the built-in ones, `package.module:Class` specs (what `--abr` takes),
and named profiles (session settings + algorithm parameters).

A spec names a module to import, never a file to read: this package stays sans-I/O.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from abr.algorithm import AbrAlgorithm
from abr.algorithms import (
    BbaAbr,
    BolaAbr,
    BolaEAbr,
    DynamicAbr,
    L2aAbr,
    LolpAbr,
    PensieveAbr,
    RobustMpcAbr,
    StochasticMpcAbr,
    StreamlabAbr,
    ThroughputAbr,
)
from abr.config import SessionConfig
from abr.errors import InputError

BUILTIN: dict[str, type[AbrAlgorithm]] = {
    cls.name: cls
    for cls in (
        ThroughputAbr,
        BbaAbr,
        BolaAbr,
        BolaEAbr,
        DynamicAbr,
        RobustMpcAbr,
        StreamlabAbr,
        StochasticMpcAbr,
        L2aAbr,
        LolpAbr,
        PensieveAbr,
    )
}


@dataclass(frozen=True)
class Profile:
    """Session settings plus per-algorithm parameters, so a comparison is reproducible."""

    name: str
    session: SessionConfig
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    description: str = ""


SABRE_BOLA = {"gamma_p": 5.0, "dynamic_vp": True, "throughput_guard": True}

PROFILES: dict[str, Profile] = {
    "default": Profile("default", SessionConfig(), description="streamlab's player defaults"),
    "sabre": Profile(
        "sabre",
        SessionConfig(
            buffer_target_s=25.0,
            abandonment=False,
            ewma_half_lives_s=(3.0, 8.0),
            first_rendition="lowest",
        ),
        # No abandonment: nothing cuts short a download caught by a drop, so streamlab plans
        # against the largest recent prediction error, ignores the buffer after an outage
        # on any link, and charges switches only what QoE_lin does: a heavier weight holds a
        # rung through a drop too (docs/research.md).
        params={
            "bola": SABRE_BOLA,
            "dynamic": SABRE_BOLA,
            "streamlab": {"error_quantile": 1.0, "switch_weight": 1.0, "slow_link_ratio": None},
        },
        description="Sabre's model: 25 s buffer, EWMA 3/8 s, BOLA gamma-p 5, no abandonment",
    ),
}


class AlgorithmSpecError(InputError, ValueError):
    """An algorithm name or spec that names no algorithm; the message says which and why."""


AlgorithmFactory = Callable[[], AbrAlgorithm]


def create(name: str, profile: Profile | None = None, **params: Any) -> AbrAlgorithm:
    """A fresh instance of built-in algorithm `name` with the profile's and the given parameters."""
    cls = _builtin(name)
    merged = dict(profile.params.get(name, {})) if profile else {}
    merged.update(params)
    return cls(**merged)


def _builtin(name: str) -> type[AbrAlgorithm]:
    cls = BUILTIN.get(name)
    if cls is None:
        known = ", ".join(sorted(BUILTIN))
        raise AlgorithmSpecError(
            f"unknown ABR algorithm {name!r}: use one of {known} or package.module:Class"
        )
    return cls


def resolve(spec: str, profile: Profile | None = None, **params: Any) -> AlgorithmFactory:
    """A zero-argument factory for `spec` (a built-in name or `package.module:Class`).

    The spec is checked now, so a bad one fails before any work starts.
    """
    if ":" not in spec:
        _builtin(spec)
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
