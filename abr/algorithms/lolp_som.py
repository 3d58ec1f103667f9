"""LoL+'s learning controller: a self-organising map with one neuron per rendition (dash.js
`LearningAbrController`).

A neuron's state is (throughput, latency, rebuffer, switch), normalised: bitrates by the
magnitude of the ladder's bitrate vector, latency by 100 s. A decision picks the neuron nearest
(weighted Euclidean distance) to the ideal state (the measured throughput, no latency, no
rebuffering, no switch); renditions the throughput does not clear by 10 kbit/s, or whose
download would leave less than the minimum buffer, get a throughput weight of 100 so they lose
unless they are the lowest. Then the neurons around the current rendition learn the state
observed, and those around the winner the ideal one (learning rate 0.01, Gaussian
neighbourhood of width 0.1). When even the current rendition's download would leave less than
the minimum buffer, it steps down to the highest rendition below it that the throughput clears,
without learning.

The first weights come from k-means++ centres drawn from random states (as dash.js), here from a seeded generator so a session is reproducible.
"""

from __future__ import annotations

import math
import random

from abr.algorithms.lolp_qoe import LolpQoe, WeightSelector, next_buffer_s

LATENCY_SCALE_S = 100.0
THROUGHPUT_MARGIN_KBPS = 10.0  # "10K + video encoding is the recommended throughput"
LEARNING_RATE = 0.01
NEIGHBOURHOOD_SIGMA = 0.1
PENALTY_WEIGHT = 100.0


def weighted_distance(a: list[float], b: list[float], weights: list[float]) -> float:
    total = 0.0
    for x, y, w in zip(a, b, weights, strict=True):
        total += w * (x - y) * (x - y)
    return math.sqrt(total)


class LearningController:
    """One per session: the map, its weights and the weight selector."""

    def __init__(
        self, bitrates_kbps: list[float], selector: WeightSelector, rng: random.Random
    ) -> None:
        self.bitrates_kbps = bitrates_kbps
        self.selector = selector
        self.scale = math.sqrt(sum(b * b for b in bitrates_kbps))
        self.states: list[list[float]] = [[b / self.scale, 0.0, 0.0, 0.0] for b in bitrates_kbps]
        self.weights = _initial_weights(len(bitrates_kbps), self._max_throughput(), rng)

    def _max_throughput(self) -> float:
        return max(state[0] for state in self.states)

    def next_quality(
        self,
        qoe: LolpQoe,
        current: int,
        throughput_kbps: float,
        latency_s: float,
        buffer_s: float,
        rate: float,
    ) -> tuple[int, str]:
        """The rendition to fetch next, and which path chose it."""
        bitrates = self.bitrates_kbps
        seg = qoe.segment_s
        normalised = throughput_kbps / self.scale
        if normalised > 1:
            normalised = self._max_throughput()
        download_s = bitrates[current] * seg / throughput_kbps
        rebuffer = max(0.0, download_s - buffer_s)
        if buffer_s - download_s < self.selector.buffer_min_s:
            return self._step_down(current, throughput_kbps), "buffer low: step down"
        chosen = self.selector.select(
            qoe,
            bitrates,
            [state[1] for state in self.states],
            latency_s,
            buffer_s,
            throughput_kbps,
            rate,
        )
        if chosen is not None:
            self.weights = list(chosen)
        ideal = [normalised, 0.0, 0.0, 0.0]
        lowest = min(bitrates)
        winner = 0
        best = math.inf
        for q, state in enumerate(self.states):
            weights = self.weights
            after = next_buffer_s(buffer_s, bitrates[q] * seg / throughput_kbps, seg)
            risky = bitrates[q] > throughput_kbps - THROUGHPUT_MARGIN_KBPS
            if (risky or after < self.selector.buffer_min_s) and bitrates[q] != lowest:
                weights = [PENALTY_WEIGHT, *weights[1:]]
            distance = weighted_distance(state, ideal, weights)
            if distance < best:
                best = distance
                winner = q
        switch = abs(bitrates[current] - bitrates[winner]) / self.scale
        self._learn(current, [normalised, latency_s / LATENCY_SCALE_S, rebuffer, switch])
        self._learn(winner, [normalised, 0.0, 0.0, switch])
        return winner, "som"

    def _step_down(self, current: int, throughput_kbps: float) -> int:
        bitrates = self.bitrates_kbps
        result = current
        best = 0.0
        for q, bitrate in enumerate(bitrates):
            if bitrate < bitrates[current] and bitrate > best and bitrate < throughput_kbps:
                best = bitrate
                result = q
        return result

    def _learn(self, centre: int, observed: list[float]) -> None:
        """Move every neuron towards `observed`, the more the nearer it is to `centre`."""
        unit = [1.0, 1.0, 1.0, 1.0]
        middle = list(self.states[centre])
        for state in self.states:
            d = weighted_distance(state, middle, unit)
            pull = LEARNING_RATE * math.exp(-d * d / (2 * NEIGHBOURHOOD_SIGMA**2))
            for k in range(4):
                state[k] += (observed[k] - state[k]) * pull


def _initial_weights(neurons: int, max_throughput: float, rng: random.Random) -> list[float]:
    """Of `neurons` k-means++ centres of random states, the one farthest from the least
    similar centre (dash.js's start)."""
    unit = [1.0, 1.0, 1.0, 1.0]
    data = [
        [rng.random() * max_throughput, rng.random(), rng.random(), rng.random()]
        for _ in range(neurons * neurons)
    ]
    centres = [data[0]]
    for _ in range(1, neurons):
        farthest = max(data, key=lambda p: min(weighted_distance(p, c, unit) for c in centres))
        centres.append(farthest)
    odd = max(centres, key=lambda c: sum(weighted_distance(c, other, unit) for other in centres))
    rest = [c for c in centres if c is not odd] or [odd]
    # dash.js orders the centres by distance from the least similar one and starts on the last.
    return max(rest, key=lambda c: weighted_distance(c, odd, unit))
