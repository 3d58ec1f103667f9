"""Built-in algorithms by name, and named profiles (session settings + algorithm parameters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abr.algorithm import AbrAlgorithm
from abr.algorithms import (
    BbaAbr,
    BolaAbr,
    BolaEAbr,
    DynamicAbr,
    RobustMpcAbr,
    StreamlabAbr,
    ThroughputAbr,
)
from abr.config import SessionConfig

BUILTIN: dict[str, type[AbrAlgorithm]] = {
    cls.name: cls
    for cls in (ThroughputAbr, BbaAbr, BolaAbr, BolaEAbr, DynamicAbr, RobustMpcAbr, StreamlabAbr)
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


def create(name: str, profile: Profile | None = None, **params: Any) -> AbrAlgorithm:
    """A fresh instance of built-in algorithm `name` with the profile's and the given parameters."""
    try:
        cls = BUILTIN[name]
    except KeyError:
        known = ", ".join(sorted(BUILTIN))
        raise KeyError(f"unknown ABR algorithm {name!r} (built-in: {known})") from None
    merged = dict(profile.params.get(name, {})) if profile else {}
    merged.update(params)
    return cls(**merged)
