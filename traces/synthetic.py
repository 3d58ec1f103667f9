"""Seeded synthetic traces: constant, step, Markov-modulated (Gilbert-Elliott) and the tunnel.

Names spell out the shape in Mbit/s and seconds ("tunnel-50M-1M-20s"), so tables and plots
read without a legend.
"""

from __future__ import annotations

import numpy as np

from traces.trace import Trace

SET_NAME = "synthetic"
DEFAULT_LATENCY_S = 0.04


def constant(
    bandwidth_kbps: float,
    duration_s: float = 600.0,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    name = f"constant-{_mbit(bandwidth_kbps)}"
    return _trace(name, [duration_s], [bandwidth_kbps], latency_s, set_name)


def step(
    before_kbps: float,
    after_kbps: float,
    at_s: float,
    duration_s: float = 600.0,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    """`before_kbps` until `at_s`, then `after_kbps` to the end."""
    if not 0 < at_s < duration_s:
        raise ValueError(f"the step at {at_s} s must fall inside the trace (0..{duration_s} s)")
    name = f"step-{_mbit(before_kbps)}-{_mbit(after_kbps)}-at{at_s:g}s"
    return _trace(name, [at_s, duration_s - at_s], [before_kbps, after_kbps], latency_s, set_name)


def tunnel(
    high_kbps: float = 50_000.0,
    low_kbps: float = 1_000.0,
    start_s: float = 60.0,
    length_s: float = 20.0,
    duration_s: float = 600.0,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    """A fast link that drops to `low_kbps` for `length_s` seconds and back (a train tunnel)."""
    if not (start_s > 0 and length_s > 0 and start_s + length_s < duration_s):
        raise ValueError(
            f"the tunnel ({start_s} s + {length_s} s) must fall inside the trace ({duration_s} s)"
        )
    name = f"tunnel-{_mbit(high_kbps)}-{_mbit(low_kbps)}-{length_s:g}s"
    durations = [start_s, length_s, duration_s - start_s - length_s]
    return _trace(name, durations, [high_kbps, low_kbps, high_kbps], latency_s, set_name)


def markov(
    good_kbps: float,
    bad_kbps: float,
    p_good_to_bad: float,
    p_bad_to_good: float,
    seed: int,
    piece_s: float = 1.0,
    duration_s: float = 600.0,
    jitter: float = 0.1,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    """Gilbert-Elliott: a good and a bad state, switching per piece, with lognormal jitter.

    Starts good. `jitter` is the sigma of the lognormal factor; its mu is -sigma²/2 so the
    factor averages 1 and each state keeps its nominal mean rate.
    """
    for p in (p_good_to_bad, p_bad_to_good):
        if not 0 <= p <= 1:
            raise ValueError(f"transition probabilities must be within 0..1, not {p}")
    if piece_s <= 0 or duration_s <= 0 or jitter < 0:
        raise ValueError("piece_s and duration_s must be positive, jitter not negative")
    rng = np.random.default_rng(seed)
    pieces = max(int(np.ceil(duration_s / piece_s - 1e-9)), 1)
    flips = rng.random(pieces)
    states = np.empty(pieces, dtype=bool)
    good = True
    for i in range(pieces):  # a few hundred steps: a plain loop is clearest
        states[i] = good
        good = flips[i] >= p_good_to_bad if good else flips[i] < p_bad_to_good
    base = np.where(states, good_kbps, bad_kbps)
    kbps = base * rng.lognormal(-(jitter**2) / 2, jitter, size=pieces)
    durations = np.full(pieces, piece_s)
    durations[-1] = duration_s - piece_s * (pieces - 1)  # the last piece ends the trace on time
    name = f"markov-{_mbit(good_kbps)}-{_mbit(bad_kbps)}-seed{seed}"
    return Trace(name, set_name, durations, kbps, np.full(pieces, latency_s))


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


def _trace(
    name: str, durations: list[float], kbps: list[float], latency_s: float, set_name: str
) -> Trace:
    return Trace(name, set_name, np.array(durations), np.array(kbps), np.full(len(kbps), latency_s))


def _mbit(kbps: float) -> str:
    return f"{kbps / 1000:g}M"
