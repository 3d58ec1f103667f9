"""The MPC planner's bounds change its cost, never its decisions (ties included)."""

from __future__ import annotations

import random

import pytest

from abr.algorithms.mpc_plan import best_first_rendition

# The programme as it was before branch and bound: every undominated plan carried to the end,
# the first of the first best plan met returned. `compare` results were made with it, so the
# planner must answer as it does, including which of two equally good plans it picks.
State = tuple[float, float, int, int, float]


def _plain_programme(
    sizes_bits: list[list[float]],
    durations_s: list[float],
    mbps: list[float],
    buffer_s: float,
    last: int,
    throughput_bps: float,
    latency_s: float,
    cap_s: float,
    top: int,
    rebuffer_penalty: float,
    candidates: list[int] | None,
    switch_weight: float,
) -> int:
    renditions = candidates if candidates is not None else list(range(top + 1))
    largest = max(renditions)
    steps = len(durations_s)
    download = [
        [latency_s + sizes[q] / throughput_bps for q in range(top + 1)] for sizes in sizes_bits
    ]
    rooms = [cap_s - d for d in durations_s]
    reach = 1.0 + 2.0 * switch_weight

    def worst_stall(buffer: float, step: int) -> float:
        stall = 0.0
        for k in range(step, steps):
            if buffer > rooms[k] > 0:
                buffer = rooms[k]
            d = download[k][largest]
            if d > buffer:
                stall += d - buffer
                buffer = durations_s[k]
            else:
                buffer += durations_s[k] - d
        return stall

    def edge(a: State, b_rate: float, b_buffer: float) -> float:
        gap = mbps[a[2]] - b_rate
        result = switch_weight * (gap if gap > 0 else -gap)
        more = b_buffer - a[1]
        if more > 0 and a[4] > 0:
            result += rebuffer_penalty * (more if more < a[4] else a[4])
        return result

    def insert(states: list[State], state: State) -> None:
        value, buffer, q, _, _ = state
        if any(other[0] - edge(other, mbps[q], buffer) >= value for other in states):
            return
        states[:] = [s for s in states if value - edge(state, mbps[s[2]], s[1]) < s[0]]
        states.append(state)

    frontier: list[State] = [(0.0, buffer_s, last, -1, 0.0)]
    best_value = float("-inf")
    best_first = renditions[0]
    for k in range(steps):
        final = k == steps - 1
        advance: list[State] = []
        for reward, buffer, prev, first, _ in frontier:
            if buffer > rooms[k] > 0:
                buffer = rooms[k]
            lowest = download[k][0]
            stall_lowest = lowest - buffer if lowest > buffer else 0.0
            for q in renditions:
                d = download[k][q]
                rate = mbps[q]
                if d > buffer:
                    stall = d - buffer
                    if rebuffer_penalty * (stall - stall_lowest) > reach * (rate - mbps[0]):
                        continue
                    next_buffer = durations_s[k]
                else:
                    stall = 0.0
                    next_buffer = buffer - d + durations_s[k]
                change = rate - mbps[prev] if rate > mbps[prev] else mbps[prev] - rate
                value = reward + rate - switch_weight * change - rebuffer_penalty * stall
                chosen_first = q if first < 0 else first
                if final:
                    if value > best_value:
                        best_value, best_first = value, chosen_first
                    continue
                insert(
                    advance, (value, next_buffer, q, chosen_first, worst_stall(next_buffer, k + 1))
                )
        frontier = advance
    return best_first


def _decision(rng: random.Random) -> tuple[object, ...]:
    """A planner call like MPC's: a ladder, segments that vary or repeat (repeats make ties),
    a throughput near a rung, candidates around it as RobustMPC's band picks them, or all."""
    levels = rng.randint(2, 10)
    mbps = sorted(round(rng.uniform(0.2, 8.0), rng.choice([1, 3])) for _ in range(levels))
    steps = rng.randint(1, 8)
    duration = rng.choice([1.0, 2.0, 3.0, 4.0])
    durations = [duration] * steps
    noise = rng.choice([0.0, 0.1, 0.3])
    sizes = [
        [m * 1e6 * duration * rng.uniform(1 - noise, 1 + noise) for m in mbps] for _ in durations
    ]
    throughput_mbps = rng.choice(mbps) * rng.uniform(0.5, 1.6)
    cap = rng.choice([duration * 4, 12.0, 25.0, 60.0])
    buffer = rng.choice([0.0, rng.uniform(0, duration), rng.uniform(0, cap)])
    last = rng.randrange(levels)
    candidates: list[int] | None = None
    if rng.random() < 0.7:
        sustainable = max([q for q in range(levels) if mbps[q] <= throughput_mbps] or [0])
        band = range(sustainable - 2, sustainable + 3)
        candidates = sorted({q for q in band if 0 <= q < levels} | {last})
    return (
        sizes,
        durations,
        mbps,
        buffer,
        last,
        throughput_mbps * 1e6,
        rng.choice([0.0, 0.05, 0.2]),
        cap,
        levels - 1,
        rng.choice([4.3, 2.66, 8.0]),
        candidates,
        rng.choice([0.0, 1.0, 4.0]),
    )


@pytest.mark.parametrize("seed", range(10))
def test_bounds_never_change_a_decision(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(300):
        args = _decision(rng)
        assert best_first_rendition(*args) == _plain_programme(*args), args  # type: ignore[arg-type]


def _sabre_like(rng: random.Random) -> tuple[object, ...]:
    """A decision as `streamlab` meets it in the `sabre` profile, where most of its planning
    cost goes: bbb's ladder, a 25 s buffer often well filled, switch weight 1, a throughput
    forecast far below the last rendition or near it, a horizon of 8."""
    mbps = [0.23, 0.331, 0.477, 0.688, 0.991, 1.427, 2.056, 2.962, 5.027, 6.0]
    steps = rng.choice([5, 8, 8])
    durations = [3.0] * steps
    sizes = [[m * 3e6 * rng.uniform(0.6, 1.4) for m in mbps] for _ in durations]
    throughput_mbps = rng.uniform(0.2, 7.0)
    last = rng.randrange(len(mbps))
    sustainable = max([q for q in range(len(mbps)) if mbps[q] <= throughput_mbps] or [0])
    band = range(sustainable - 2, sustainable + 3)
    candidates = sorted({q for q in band if 0 <= q < len(mbps)} | {last})
    return (
        sizes,
        durations,
        mbps,
        rng.uniform(0.0, 22.0),
        last,
        throughput_mbps * 1e6,
        0.02,
        25.0,
        len(mbps) - 1,
        4.3,
        candidates,
        1.0,
    )


@pytest.mark.parametrize("seed", range(4))
def test_bounds_never_change_a_sabre_profile_decision(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(250):
        args = _sabre_like(rng)
        assert best_first_rendition(*args) == _plain_programme(*args), args  # type: ignore[arg-type]
