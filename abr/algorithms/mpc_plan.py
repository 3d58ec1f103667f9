"""Exact look-ahead planning for MPC: the best first rendition over a short horizon.

Objective (Pensieve's QoE_lin over the horizon): sum of bitrates (Mbit/s) minus
`rebuffer_penalty` x stall seconds minus `switch_weight` x the sum of |bitrate changes|, under
a constant predicted throughput, per-request latency, and a buffer that waits for room below
`cap_s`. QoE_lin itself has `switch_weight` 1; a planner may charge more (see `streamlab`).

Instead of enumerating every plan (10 renditions, horizon 5: 10^5 plans), this is a dynamic
programme over the steps that keeps only plans no other plan dominates. Plan A dominates B
when, whatever follows, A ends at least as well:
- the next smoothness term can favour B by at most switch_weight x |bitrate(A) - bitrate(B)|;
- B's larger buffer (if larger) can save at most penalty x min(buffer gap, the stall A
  would suffer even downloading the largest candidate every step): stall is monotone and
  1-Lipschitz in the starting buffer, and the largest downloads stall the most.
A dominated plan can never be completed into a better one, so the result equals full
enumeration over the candidates (tests check). One more exact pruning: a rendition whose extra
stall over the lowest one costs more than (1 + 2 x switch_weight) x its bitrate advantage
(this step's bitrate and the smoothness terms on both sides) can never win and is skipped.
"""

from __future__ import annotations

# (reward so far, buffer s, last rendition, first rendition, worst-case future stall s)
State = tuple[float, float, int, int, float]


def best_first_rendition(
    sizes_bits: list[list[float]],
    durations_s: list[float],
    mbps: list[float],
    buffer_s: float,
    last: int,
    throughput_bps: float,
    latency_s: float,
    cap_s: float,
    top: int,
    rebuffer_penalty: float = 4.3,
    candidates: list[int] | None = None,
    switch_weight: float = 1.0,
) -> int:
    """`sizes_bits[k][q]` and `durations_s[k]` describe the next len(durations_s) segments."""
    renditions = candidates if candidates is not None else list(range(top + 1))
    largest = max(renditions)
    steps = len(durations_s)
    download = [
        [latency_s + sizes[q] / throughput_bps for q in range(top + 1)] for sizes in sizes_bits
    ]
    rooms = [cap_s - d for d in durations_s]
    lowest_mbps = mbps[0]
    reach = 1.0 + 2.0 * switch_weight  # this step's bitrate and the switches on both sides

    def worst_stall(buffer: float, step: int) -> float:
        """Stall from `buffer` if every later segment came at the largest candidate."""
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

    frontier: list[State] = [(0.0, buffer_s, last, -1, 0.0)]
    best_value = float("-inf")
    best_first = renditions[0]
    for k in range(steps):
        seg_s = durations_s[k]
        room = rooms[k]
        download_s = download[k]
        final = k == steps - 1
        advance: list[State] = []
        for reward, buffer, prev, first, _ in frontier:
            prev_mbps = mbps[prev]
            if buffer > room > 0:
                buffer = room  # waiting for room is free: no stall, no reward
            stall_lowest = download_s[0] - buffer if download_s[0] > buffer else 0.0
            for q in renditions:
                d = download_s[q]
                rate = mbps[q]
                if d > buffer:
                    stall = d - buffer
                    if rebuffer_penalty * (stall - stall_lowest) > reach * (rate - lowest_mbps):
                        continue
                    next_buffer = seg_s
                else:
                    stall = 0.0
                    next_buffer = buffer - d + seg_s
                change = rate - prev_mbps if rate > prev_mbps else prev_mbps - rate
                value = reward + rate - switch_weight * change - rebuffer_penalty * stall
                chosen_first = q if first < 0 else first
                if final:
                    if value > best_value:
                        best_value, best_first = value, chosen_first
                    continue
                state = (value, next_buffer, q, chosen_first, worst_stall(next_buffer, k + 1))
                _insert(advance, mbps, rebuffer_penalty, state, switch_weight)
        frontier = advance
    return best_first


def _insert(
    states: list[State], mbps: list[float], penalty: float, state: State, weight: float
) -> None:
    """Add `state` unless another dominates it; drop the states it dominates."""
    value, buffer, q, _, _ = state
    rate = mbps[q]
    for other in states:
        if other[0] - _edge(other, rate, buffer, penalty, mbps, weight) >= value:
            return
    states[:] = [
        s for s in states if value - _edge(state, mbps[s[2]], s[1], penalty, mbps, weight) < s[0]
    ]
    states.append(state)


def _edge(
    a: State, b_rate: float, b_buffer: float, penalty: float, mbps: list[float], weight: float
) -> float:
    """The most any continuation can favour plan b over plan a."""
    gap = mbps[a[2]] - b_rate
    edge = weight * (gap if gap > 0 else -gap)
    more = b_buffer - a[1]
    if more > 0 and a[4] > 0:
        edge += penalty * (more if more < a[4] else a[4])
    return edge
