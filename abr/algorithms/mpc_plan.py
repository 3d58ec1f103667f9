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

Most decisions are not close, yet the programme alone carries every undominated plan to the
end (3-5x RobustMPC's cost at `streamlab`'s horizon of 8). So it also runs branch and bound:
the best of a few simple plans is a floor (`_floor`), each plan gets a bound on the most its
remaining steps can add (`_TailBound`), a plan whose bound is below the floor is dropped, and
once every plan left starts with the same rendition, that rendition is the answer. A busy
decision (one whose plans stay many: with a full 25 s buffer and switch weight 1, many plans
spend the buffer about as well) also raises the floor as it goes, to the value of each plan
kept held to the end (the first time, also held and then switched once to a neighbouring
rendition), and bounds with a second price (see `_TailBound`). The answer is the plain
programme's, ties included (tests check): the floor is always the value of some complete plan
less `_MARGIN`, so a dropped plan ends more than `_MARGIN` below the best, and it could not
have dominated a plan within `_MARGIN` of the best; those plans meet in the same order as
without the bound, and the first of them still wins.
"""

from __future__ import annotations

import itertools

# (reward so far, buffer s, last rendition, first rendition, worst-case future stall s)
State = tuple[float, float, int, int, float]

# A plan is dropped only if its bound is this far below the floor: far above the rounding of
# sums of a few dozen terms, far below any QoE difference that means anything.
_MARGIN = 1e-6

# A decision is busy once a step keeps more plans than this (see `best_first_rendition`).
_BUSY = 10

# The second price of a second of download a busy decision's bound charges, as a share of the
# first (see `_TailBound`): tried from 0.4 to 1.4 on the dev traces, alone or in pairs.
_SECOND_PRICE = 0.7


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
    horizon = _Horizon(
        sizes_bits,
        durations_s,
        mbps,
        throughput_bps,
        latency_s,
        cap_s,
        top,
        rebuffer_penalty,
        switch_weight,
    )
    download = horizon.download
    rooms = horizon.rooms
    lowest_mbps = mbps[0]
    reach = horizon.reach

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

    tail = _TailBound(horizon, renditions)
    ladder = tail.order
    reached = _floor(horizon, buffer_s, last, ladder)  # the best plan value known
    floor = reached - _MARGIN

    # Set once a step keeps more than `_BUSY` plans: the rare decision worth the extra work
    # of more stall prices in the bound and a floor raised by holding each plan to the end.
    busy = False
    rolled = False
    frontier: list[State] = [(0.0, buffer_s, last, -1, 0.0)]
    best_value = float("-inf")
    best_first = renditions[0]
    for k in range(steps):
        seg_s = durations_s[k]
        room = rooms[k]
        download_s = download[k]
        final = k == steps - 1
        lift = tail.lift(k + 1)
        # (value, buffer, rendition, first rendition) of the plans one step longer that the
        # closed-form bound keeps
        children: list[tuple[float, float, int, int]] = []
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
                elif value + lift[q] >= floor:
                    children.append((value, next_buffer, q, chosen_first))
        if final:
            break
        children = tail.keep(k + 1, children, floor)
        if not busy and len(children) > _BUSY:
            busy = True
            children = tail.keep(k + 1, children, floor, every_price=True)
        if not children:
            break
        if all(child[3] == children[0][3] for child in children):
            return children[0][3]
        frontier = []
        for value, next_buffer, q, chosen_first in children:
            state = (value, next_buffer, q, chosen_first, worst_stall(next_buffer, k + 1))
            _insert(frontier, mbps, rebuffer_penalty, state, switch_weight)
        if busy:
            # raise the floor: each plan held to the end (the first time, also switched once)
            remaining = steps - k - 1
            for value, next_buffer, q, _, _ in frontier:
                if rolled:
                    if value + remaining * mbps[q] > reached:
                        reached = horizon.hold(value, next_buffer, q, k + 1, reached)
                elif value + lift[q] > reached:
                    reached = _held(horizon, ladder, value, next_buffer, q, k + 1, reached)
            rolled = True
            floor = reached - _MARGIN
    return best_first


class _Horizon:
    """One decision's next segments at the predicted throughput, and the plan objective."""

    def __init__(
        self,
        sizes_bits: list[list[float]],
        durations_s: list[float],
        mbps: list[float],
        throughput_bps: float,
        latency_s: float,
        cap_s: float,
        top: int,
        penalty: float,
        weight: float,
    ) -> None:
        self.download = [
            [latency_s + sizes[q] / throughput_bps for q in range(top + 1)] for sizes in sizes_bits
        ]
        self.durations_s = durations_s
        self.rooms = [cap_s - d for d in durations_s]
        self.mbps = mbps
        self.penalty = penalty
        self.weight = weight
        self.reach = 1.0 + 2.0 * weight  # this step's bitrate and the switches on both sides

    def hold(self, value: float, buffer: float, q: int, start: int, best: float) -> float:
        """The larger of `best` and the value after playing `q` (played before too) in steps
        start..: `play`'s expressions, without the path."""
        rate = self.mbps[q]
        penalty = self.penalty
        low = self.reach * (rate - self.mbps[0])
        for k in range(start, len(self.durations_s)):
            room = self.rooms[k]
            if buffer > room > 0:
                buffer = room
            download_k = self.download[k]
            d = download_k[q]
            if d > buffer:
                stall = d - buffer
                stall_lowest = download_k[0] - buffer if download_k[0] > buffer else 0.0
                if penalty * (stall - stall_lowest) > low:
                    return best
                value += rate - penalty * stall
                buffer = self.durations_s[k]
            else:
                value += rate
                buffer = buffer - d + self.durations_s[k]
        return value if value > best else best

    def play(
        self, value: float, buffer: float, prev: int, q: int, start: int, stop: int
    ) -> list[tuple[float, float]]:
        """(value, buffer) after each of steps start..stop-1 playing `q`, with the programme's
        own expressions; shorter if the programme skips a step."""
        mbps = self.mbps
        rate = mbps[q]
        change = rate - mbps[prev] if rate > mbps[prev] else mbps[prev] - rate
        value -= self.weight * change
        penalty = self.penalty
        path = []
        for k in range(start, stop):
            room = self.rooms[k]
            if buffer > room > 0:
                buffer = room
            download_k = self.download[k]
            d = download_k[q]
            if d > buffer:
                stall = d - buffer
                stall_lowest = download_k[0] - buffer if download_k[0] > buffer else 0.0
                if penalty * (stall - stall_lowest) > self.reach * (rate - mbps[0]):
                    break
                value += rate - penalty * stall
                buffer = self.durations_s[k]
            else:
                value += rate
                buffer = buffer - d + self.durations_s[k]
            path.append((value, buffer))
        return path


def _floor(horizon: _Horizon, buffer_s: float, last: int, ladder: list[int]) -> float:
    """The value of the best plan that holds one of the `ladder` (the candidates by bitrate),
    or holds `last` and then switches once to a rendition next to it: on the dev traces, the
    best plan in 87-96 % of decisions."""
    steps = len(horizon.durations_s)
    mbps = horizon.mbps
    weight = horizon.weight
    best = float("-inf")
    if last in ladder:
        # first: its value most often lets the others be skipped
        best = _held(horizon, ladder, 0.0, buffer_s, last, 0, best)
    for q in ladder:
        # skipped when even without a stall it could not do better
        if q != last and steps * mbps[q] - weight * abs(mbps[q] - mbps[last]) > best:
            path = horizon.play(0.0, buffer_s, last, q, 0, steps)
            if len(path) == steps and path[-1][0] > best:
                best = path[-1][0]
    return best


def _held(
    horizon: _Horizon,
    ladder: list[int],
    value: float,
    buffer: float,
    q: int,
    start: int,
    best: float,
) -> float:
    """The larger of `best` and the value of holding `q` from step `start` to the end, or
    holding it and then switching once to a rendition next to it on the `ladder`."""
    steps = len(horizon.durations_s)
    held = horizon.play(value, buffer, q, q, start, steps)
    if len(held) == steps - start and held[-1][0] > best:
        best = held[-1][0]
    if not held:
        return best
    mbps = horizon.mbps
    at = ladder.index(q)
    for other in ladder[max(at - 1, 0) : at] + ladder[at + 1 : at + 2]:
        change = horizon.weight * abs(mbps[other] - mbps[q])
        for switch, (before, left) in enumerate(held[: steps - start - 1], start=start + 1):
            if before + (steps - switch) * mbps[other] - change > best:
                path = horizon.play(before, left, q, other, switch, steps)
                if len(path) == steps - switch and path[-1][0] > best:
                    best = path[-1][0]
    return best


class _TailBound:
    """Upper bounds on what the steps from `k` on can add to a plan that played `q` before.

    Stalls free, the best the steps can add switches at most once, to the highest candidate if
    enough steps remain to repay the switch: closed-form (`lift`). Tighter where stalls loom:
    over the steps the total stall is at least their download time minus the buffer at the
    start minus the durations of all but the last of their segments (a download's stall is
    what it takes beyond the buffer, the buffer after it holds at least its segment, and
    waiting for room only loses buffer), and at least 0. So at any price p per second from 0 to
    the penalty it costs at least p x (download time - buffer - durations), and the steps add
    at most p x (buffer + durations) plus the best, over rendition sequences, of
    sum(bitrate - p x download) - switch_weight x switching: a chain over the renditions,
    solved backwards once per decision and price, and only when the closed form leaves more
    than one first rendition in play. The bound is tightest near the price at which the
    renditions trade evenly, the bitrate a second of download buys (`exchange`), where a plan
    that must spend its buffer gains about as much from any of them; a busy decision adds a
    second price, `_SECOND_PRICE` of it, for plans with buffer to spare.
    """

    def __init__(self, horizon: _Horizon, renditions: list[int]) -> None:
        self.horizon = horizon
        mbps = horizon.mbps
        self.order = sorted(renditions, key=mbps.__getitem__)
        self.high = mbps[self.order[-1]]
        self.steps = len(horizon.durations_s)
        # per price: (price, [k][position in `order`]), solved when first needed
        self.chains: list[tuple[float, list[list[float]]]] = []
        self.position = {q: i for i, q in enumerate(self.order)}
        self.credit: list[float] = []  # [k]: durations of segments k .. steps - 2
        # the bitrate a second of download buys, from the lowest candidate to the highest
        low, high = self.order[0], self.order[-1]
        spread = horizon.download[0][high] - horizon.download[0][low]
        exchange = (mbps[high] - mbps[low]) / spread if spread > 0 else 0.0
        penalty = horizon.penalty
        self.prices = [min(penalty, exchange), min(penalty, _SECOND_PRICE * exchange)]

    def lift(self, k: int) -> list[float]:
        """The closed-form bound on steps `k`.., by the rendition played before."""
        mbps = self.horizon.mbps
        remaining = self.steps - k
        climb = remaining - self.horizon.weight
        high = self.high
        lifts = [0.0] * len(mbps)
        for q in self.order:
            rate = mbps[q]
            most = remaining * rate
            if climb > 0:
                most += climb * (high - rate)
            lifts[q] = most
        return lifts

    def keep(
        self,
        k: int,
        plans: list[tuple[float, float, int, int]],
        floor: float,
        every_price: bool = False,
    ) -> list[tuple[float, float, int, int]]:
        """The `plans` (value, buffer, last rendition, first) within the closed-form bound that
        steps `k`.. could lift to `floor` at the stall prices solved so far (the first at
        least), or at every price."""
        if not plans or all(plan[3] == plans[0][3] for plan in plans):
            return plans
        if not self.chains:
            self._solve_next()
        if every_price:
            while len(self.chains) < len(self.prices):
                self._solve_next()
        room = self.horizon.rooms[k]
        credit = self.credit[k]
        position = self.position
        for price, chain in self.chains:
            row = chain[k]
            plans = [
                plan
                for plan in plans
                if plan[0]
                + price * ((room if plan[1] > room > 0 else plan[1]) + credit)
                + row[position[plan[2]]]
                >= floor
            ]
            if not plans or all(plan[3] == plans[0][3] for plan in plans):
                break
        return plans

    def _solve_next(self) -> None:
        horizon = self.horizon
        if not self.credit:
            self.credit = [0.0] * (self.steps + 1)
            for k in range(self.steps - 2, -1, -1):
                self.credit[k] = self.credit[k + 1] + horizon.durations_s[k]
        price = self.prices[len(self.chains)]
        self.chains.append((price, self._solve_chain(price)))

    def _solve_chain(self, scale: float) -> list[list[float]]:
        horizon = self.horizon
        order = self.order
        rates = [horizon.mbps[q] for q in order]
        # the switching cost between neighbours in `order`
        gaps = [horizon.weight * (high - low) for low, high in itertools.pairwise(rates)]
        row = [0.0] * len(order)
        chain = [row] * (self.steps + 1)
        for k in range(self.steps - 1, 0, -1):
            download_k = horizon.download[k]
            # the most steps k.. can add after order[i]: with an L1 switching cost, a sweep up
            # then one down replace the maximum over all pairs (a value carried up and back
            # down has paid more than the direct switch, so it never wins)
            row = [
                rate - scale * download_k[q] + after
                for rate, q, after in zip(rates, order, row, strict=True)
            ]
            for i, gap in enumerate(gaps):
                if row[i] - gap > row[i + 1]:
                    row[i + 1] = row[i] - gap
            for i in range(len(gaps) - 1, -1, -1):
                if row[i + 1] - gaps[i] > row[i]:
                    row[i] = row[i + 1] - gaps[i]
            chain[k] = row
        return chain


def _insert(
    states: list[State], mbps: list[float], penalty: float, state: State, weight: float
) -> None:
    """Add `state` unless another dominates it; drop the states it dominates.

    Plan A dominates plan B when A's reward, less the most any continuation can favour B
    (the next switch's cost difference, and the stall B's larger buffer could save A), still
    reaches B's. One pass: `states` changes only once no state dominates `state`.
    """
    value, buffer, q, _, worst = state
    rate = mbps[q]
    kept = []
    for other in states:
        other_value, other_buffer, other_q, _, other_worst = other
        gap = mbps[other_q] - rate
        edge = weight * (gap if gap > 0 else -gap)
        more = buffer - other_buffer
        if more > 0:
            # only `state`'s buffer can favour it
            if value - edge < other_value:
                kept.append(other)
            if other_worst > 0:
                edge += penalty * (more if more < other_worst else other_worst)
            if other_value - edge >= value:
                return
        else:
            if other_value - edge >= value:
                return
            if more < 0 and worst > 0:
                edge += penalty * (-more if -more < worst else worst)
            if value - edge < other_value:
                kept.append(other)
    kept.append(state)
    states[:] = kept
