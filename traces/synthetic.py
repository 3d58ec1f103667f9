"""Seeded synthetic traces: constant, step, Markov-modulated (Gilbert-Elliott), the tunnel, and
link families an ABR was not tuned on (`families`): random walks, short drops, random steps,
repeated outages.

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
    if jitter < 0:
        raise ValueError(f"jitter must not be negative, not {jitter}")
    pieces = _pieces(duration_s, piece_s)
    rng = np.random.default_rng(seed)
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


def random_walk(
    level_kbps: float,
    seed: int,
    memory: float = 0.95,
    sigma: float = 0.2,
    piece_s: float = 1.0,
    duration_s: float = 600.0,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    """A log-space AR(1) walk around `level_kbps`: a cellular link without outages.

    Each piece keeps `memory` of the last one's log deviation plus a normal step of `sigma`.
    """
    if not 0 <= memory < 1 or sigma < 0:
        raise ValueError(f"memory must be within [0, 1) and sigma not negative ({memory}, {sigma})")
    rng = np.random.default_rng(seed)
    pieces = _pieces(duration_s, piece_s)
    deviation = np.empty(pieces)
    x = 0.0
    for i in range(pieces):
        deviation[i] = x
        x = memory * x + rng.normal(0.0, sigma)
    name = f"walk-{_mbit(level_kbps)}-s{sigma:g}-seed{seed}"
    return _trace(
        name, [piece_s] * pieces, list(level_kbps * np.exp(deviation)), latency_s, set_name
    )


def short_drops(
    high_kbps: float,
    low_kbps: float,
    seed: int,
    mean_gap_s: float = 40.0,
    longest_s: int = 5,
    jitter: float = 0.15,
    duration_s: float = 600.0,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    """A fast link (Wi-Fi) that falls to `low_kbps` for 1..`longest_s` s every ~`mean_gap_s` s."""
    rng = np.random.default_rng(seed)
    pieces = _pieces(duration_s, 1.0)
    kbps = high_kbps * rng.lognormal(-(jitter**2) / 2, jitter, size=pieces)
    at = 0
    while True:
        at += 1 + int(rng.exponential(mean_gap_s))
        if at >= pieces:
            break
        length = int(rng.integers(1, longest_s + 1))
        kbps[at : at + length] = low_kbps
        at += length
    name = f"drops-{_mbit(high_kbps)}-{_mbit(low_kbps)}-seed{seed}"
    return _trace(name, [1.0] * pieces, list(kbps), latency_s, set_name)


def random_steps(
    low_kbps: float,
    high_kbps: float,
    seed: int,
    hold_s: tuple[float, float] = (30.0, 120.0),
    duration_s: float = 600.0,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    """Levels drawn log-uniformly from low..high, each held for a uniform `hold_s` range."""
    rng = np.random.default_rng(seed)
    durations: list[float] = []
    kbps: list[float] = []
    left = duration_s
    while left > 1e-9:
        hold = min(float(rng.uniform(*hold_s)), left)
        durations.append(hold)
        kbps.append(float(np.exp(rng.uniform(np.log(low_kbps), np.log(high_kbps)))))
        left -= hold
    name = f"steps-{_mbit(low_kbps)}-{_mbit(high_kbps)}-seed{seed}"
    return _trace(name, durations, kbps, latency_s, set_name)


def outages(
    kbps: float,
    seed: int,
    gap_s: tuple[float, float] = (40.0, 120.0),
    length_s: tuple[float, float] = (5.0, 30.0),
    outage_kbps: float = 30.0,
    duration_s: float = 600.0,
    latency_s: float = DEFAULT_LATENCY_S,
    set_name: str = SET_NAME,
) -> Trace:
    """A link at `kbps` with outages (near zero) of `length_s` every `gap_s` (both uniform)."""
    rng = np.random.default_rng(seed)
    durations: list[float] = []
    rates: list[float] = []
    left = duration_s
    up = True
    while left > 1e-9:
        hold = min(float(rng.uniform(*(gap_s if up else length_s))), left)
        durations.append(hold)
        rates.append(kbps if up else outage_kbps)
        left -= hold
        up = not up
    name = f"outages-{_mbit(kbps)}-seed{seed}"
    return _trace(name, durations, rates, latency_s, set_name)


def families(per_family: int, seed: int = 0, scale: float = 1.0) -> list[Trace]:
    """Seven link families, `per_family` traces each (the set name is the family).

    For checking an ABR on links it was not tuned on. Rates suit a 0.2-6 Mbit/s ladder; `scale`
    multiplies them for another (6 for a 1-35 Mbit/s 4K ladder).
    """
    rng = np.random.default_rng(seed)
    traces: list[Trace] = []
    for _ in range(per_family):
        s = int(rng.integers(2**31))

        def u(low: float, high: float) -> float:
            return float(rng.uniform(low, high)) * scale

        traces += [
            random_walk(u(1500, 4000), s, 0.97, 0.12, set_name="walk-calm"),
            random_walk(u(1500, 4000), s + 1, 0.9, 0.35, set_name="walk-volatile"),
            random_walk(u(350, 800), s + 2, 0.95, 0.2, set_name="walk-slow"),
            short_drops(u(5000, 10000), u(100, 400), s + 3, set_name="wifi-drops"),
            random_steps(300 * scale, 8000 * scale, s + 4, set_name="random-steps"),
            outages(u(3000, 10000), s + 5, outage_kbps=30 * scale, set_name="outages"),
            markov(
                u(2000, 6000), u(200, 800), 0.03, 0.03, s + 6, jitter=0.4, set_name="markov-cell"
            ),
        ]
    return traces


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


def _pieces(duration_s: float, piece_s: float) -> int:
    if piece_s <= 0 or duration_s <= 0:
        raise ValueError("piece_s and duration_s must be positive")
    return max(int(np.ceil(duration_s / piece_s - 1e-9)), 1)


def _trace(
    name: str, durations: list[float], kbps: list[float], latency_s: float, set_name: str
) -> Trace:
    return Trace(name, set_name, np.array(durations), np.array(kbps), np.full(len(kbps), latency_s))


def _mbit(kbps: float) -> str:
    return f"{kbps / 1000:g}M"
