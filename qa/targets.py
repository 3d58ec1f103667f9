"""The QoE gate: a TOML targets file, and whether a run's sessions meet each target.

Defaults are the product requirements. Unknown keys are an error, not ignored: a typo in a
release gate must not quietly turn a target off.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from qa.errors import QaInputError


@dataclass(frozen=True)
class Targets:
    startup_p99_s: float = 2.0  # p99 of time to first frame (manifest, first segment, decode)
    rebuffer_ratio_max: float = 0.005  # mean over sessions
    rebuffer_ratio_p95_max: float | None = None
    sessions_failed_max: int = 0
    bitrate_kbps_min: float | None = None  # mean over sessions
    # Live runs only: p95 over sessions of each session's latency p95 (time-weighted while
    # playing); None: the session's target latency + 1 s (the live goal of issue 16).
    latency_p95_s: float | None = None


@dataclass(frozen=True)
class SessionFigures:
    """What the gate reads from one session."""

    ttff_s: float  # nan when it never started
    rebuffer_ratio: float
    bitrate_kbps: float
    failed: bool
    latency_p95_s: float = math.nan  # live: the session's own p95; nan when it never played


@dataclass(frozen=True)
class TargetCheck:
    name: str  # the targets-file key
    limit: float
    measured: float
    met: bool
    description: str


def load_targets(path: Path | None) -> Targets:
    if path is None:
        return Targets()
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise QaInputError(f"{path}: cannot read the targets file ({exc.strerror})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise QaInputError(f"{path}: not valid TOML ({exc})") from exc
    known = {f.name: f for f in fields(Targets)}
    values: dict[str, float | int] = {}
    for key, value in data.items():
        if key not in known:
            raise QaInputError(f"{path}: unknown key {key!r} (known: {', '.join(sorted(known))})")
        integral = key == "sessions_failed_max"
        ok_type = isinstance(value, int) if integral else isinstance(value, int | float)
        if isinstance(value, bool) or not ok_type or value < 0 or not math.isfinite(value):
            kind = "a whole number" if integral else "a number"
            raise QaInputError(f"{path}: {key} must be {kind} >= 0, not {value!r}")
        values[key] = value if integral else float(value)
    return Targets(**values)  # type: ignore[arg-type]


def check(
    targets: Targets, sessions: Sequence[SessionFigures], latency_default_s: float | None = None
) -> list[TargetCheck]:
    """One check per target in force. Failed sessions count only against sessions_failed_max:
    their (partial) QoE figures would otherwise be judged twice. A live run passes
    `latency_default_s`, the latency limit when the targets file sets none; the latency
    target is checked in live runs only."""
    ok = [s for s in sessions if not s.failed]
    ttff = np.array([s.ttff_s for s in ok], dtype=float)
    # A session that never showed a frame has an infinite start-up, not a missing one.
    ttff = np.where(np.isfinite(ttff), ttff, np.inf)
    rebuffer = np.array([s.rebuffer_ratio for s in ok], dtype=float)
    failed = sum(s.failed for s in sessions)
    checks = [
        _at_most(
            "startup_p99_s",
            targets.startup_p99_s,
            _percentile(ttff, 99),
            "p99 time to first frame (s)",
        ),
        _at_most(
            "rebuffer_ratio_max",
            targets.rebuffer_ratio_max,
            float(rebuffer.mean()) if len(rebuffer) else math.nan,
            "mean rebuffer ratio",
        ),
        _at_most(
            "sessions_failed_max", targets.sessions_failed_max, failed, "sessions that failed"
        ),
    ]
    if targets.rebuffer_ratio_p95_max is not None:
        checks.append(
            _at_most(
                "rebuffer_ratio_p95_max",
                targets.rebuffer_ratio_p95_max,
                _percentile(rebuffer, 95),
                "p95 rebuffer ratio",
            )
        )
    if targets.bitrate_kbps_min is not None:
        mean = float(np.mean([s.bitrate_kbps for s in ok])) if ok else math.nan
        met = not math.isnan(mean) and mean >= targets.bitrate_kbps_min
        checks.append(
            TargetCheck(
                "bitrate_kbps_min", targets.bitrate_kbps_min, mean, met, "mean bitrate (kbit/s)"
            )
        )
    if latency_default_s is not None:
        latency = np.array([s.latency_p95_s for s in ok], dtype=float)
        # A session that never played has no latency to speak of: it cannot meet a limit.
        latency = np.where(np.isfinite(latency), latency, np.inf)
        limit = targets.latency_p95_s
        checks.append(
            _at_most(
                "latency_p95_s",
                latency_default_s if limit is None else limit,
                _percentile(latency, 95),
                "p95 over sessions of each session's live latency p95 (s)",
            )
        )
    return checks


def _percentile(values: np.ndarray, q: float) -> float:
    if not len(values):
        return math.nan
    # The empirical quantile (a value that occurred): no interpolation towards an infinite
    # start-up, and with few sessions p99 is the worst one, as a gate should read it.
    return float(np.percentile(values, q, method="inverted_cdf"))


def _at_most(name: str, limit: float, measured: float, description: str) -> TargetCheck:
    # No measurement (every session failed) cannot meet a target.
    met = not math.isnan(measured) and measured <= limit
    return TargetCheck(name, float(limit), float(measured), met, description)
