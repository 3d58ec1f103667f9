"""Seeded synthetic traces: constant, step, Markov-modulated (Gilbert-Elliott) and the tunnel."""

from __future__ import annotations

import numpy as np

from traces.trace import Trace

SET_NAME = "synthetic"


def _trace(
    name: str, durations: np.ndarray, kbps: np.ndarray, latency_s: float, set_name: str
) -> Trace:
    return Trace(name, set_name, durations, kbps, np.full(len(durations), latency_s))


def constant(
    bandwidth_kbps: float,
    duration_s: float = 600.0,
    latency_s: float = 0.04,
    set_name: str = SET_NAME,
) -> Trace:
    name = f"constant-{bandwidth_kbps / 1000:g}M"
    return _trace(name, np.array([duration_s]), np.array([bandwidth_kbps]), latency_s, set_name)


def step(
    before_kbps: float,
    after_kbps: float,
    at_s: float,
    duration_s: float = 600.0,
    latency_s: float = 0.04,
    set_name: str = SET_NAME,
) -> Trace:
    name = f"step-{before_kbps / 1000:g}M-{after_kbps / 1000:g}M-at{at_s:g}s"
    return _trace(
        name,
        np.array([at_s, duration_s - at_s]),
        np.array([before_kbps, after_kbps]),
        latency_s,
        set_name,
    )


def tunnel(
    high_kbps: float = 50_000.0,
    low_kbps: float = 1_000.0,
    start_s: float = 60.0,
    length_s: float = 20.0,
    duration_s: float = 600.0,
    latency_s: float = 0.04,
    set_name: str = SET_NAME,
) -> Trace:
    """A fast link that drops to `low_kbps` for `length_s` seconds (a train in a tunnel)."""
    name = f"tunnel-{high_kbps / 1000:g}M-{low_kbps / 1000:g}M-{length_s:g}s"
    durations = np.array([start_s, length_s, duration_s - start_s - length_s])
    return _trace(name, durations, np.array([high_kbps, low_kbps, high_kbps]), latency_s, set_name)


def markov(
    good_kbps: float,
    bad_kbps: float,
    p_good_to_bad: float,
    p_bad_to_good: float,
    seed: int,
    piece_s: float = 1.0,
    duration_s: float = 600.0,
    jitter: float = 0.1,
    latency_s: float = 0.04,
    set_name: str = SET_NAME,
) -> Trace:
    """Gilbert-Elliott: a good and a bad state switching per piece, with lognormal jitter."""
    rng = np.random.default_rng(seed)
    pieces = max(round(duration_s / piece_s), 1)
    states = np.empty(pieces, dtype=bool)
    good = True
    for i in range(pieces):
        states[i] = good
        good = rng.random() >= p_good_to_bad if good else rng.random() < p_bad_to_good
    base = np.where(states, good_kbps, bad_kbps)
    kbps = base * rng.lognormal(0.0, jitter, size=pieces)
    name = f"markov-{good_kbps / 1000:g}M-{bad_kbps / 1000:g}M-seed{seed}"
    return _trace(name, np.full(pieces, piece_s), kbps, latency_s, set_name)


def builtin_set(seed: int = 0) -> list[Trace]:
    """A small varied set for the demo and tests: steady, stepped, bursty and tunnel links."""
    return [
        constant(1_500.0),
        constant(8_000.0),
        step(6_000.0, 1_200.0, at_s=120.0),
        step(1_200.0, 6_000.0, at_s=120.0),
        markov(6_000.0, 800.0, 0.05, 0.2, seed=seed),
        markov(3_000.0, 300.0, 0.03, 0.3, seed=seed + 1),
        markov(20_000.0, 2_000.0, 0.1, 0.3, seed=seed + 2, jitter=0.3),
        tunnel(),
    ]
