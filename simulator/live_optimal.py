"""The live bound: the most live QoE (`simulator.live_qoe`, the grand challenge's NQoE) a viewer
playing at rate 1 can reach on a live channel, knowing the whole trace.

What it bounds, exactly. Every policy that, under the lab's live model:
- joins where the session joins (the live edge minus the target latency, clamped to the listed
  segments) and takes the join segment in the lowest rendition (`first_rendition="lowest"`);
- then plays every segment of the channel in order, at playback rate 1: no catch-up or
  slow-down (so the speed term is 0) and no skipping (no resync to live after a long stall);
- makes one request at a time, for segment k no earlier than its availability time, nor
  while the buffer plus that segment would overflow the buffer target;
- starts and resumes playback as soon as a segment is in (the session's one-segment rule).
Relaxed, so still a bound: a request may start at any later time, and its first byte comes at
the earliest any such time gives (a policy that waits for a lower-latency trace piece is
covered); the manifest reloads that list segments cost nothing; abandonment is left out (with
the trace known, a download that would be abandoned is better never started).

Why an ordered DP over renditions is exact. With rate 1, the latency sampled when segment k
arrives is y_k - a_k (y_k: when the buffer would run dry after it, a_k: its availability
time), and the request for k+1 is allowed at max(e_k, a_(k+1), y_k - room). Every term but the
stalls grows with the e's and y's, and each e and y grows with every earlier one, so for a given
rendition sequence requesting at the earliest allowed time is best. The DP keeps, per segment,
the states (next request time, dry time, rendition, QoE so far) that no other state beats
whatever follows (`_prune`): the result equals enumerating every rendition sequence (tested on
small cases). Policies that speed up, slow down or skip to live (the session does all three by
default) are outside the set bounded: they can beat it. So can a rate-1 session with resync off
that falls behind the DVR window (30 s or more late, on links below the lowest rung): the
session moves it to the window's start, skipping segments (measured: bba, bola and robustmpc
above the bound on 2 of 14 synthetic-family traces, each after a 29-segment skip).

Cost: the exact DP keeps tens to hundreds of states per segment: 0.05-5 s per trace for bbb
re-cut to 1 s segments (199) at a 2 s target, up to ~30 s at 6 s on 3G and bus traces.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass

from abr.config import SessionConfig
from abr.liveedge import LiveEdge
from abr.presentation import Presentation
from simulator.errors import LiveSetupError
from simulator.link import TraceLink
from simulator.live_channel import LiveChannel, LiveSetup
from simulator.live_qoe import latency_penalty
from traces.trace import Trace

# (next request allowed at, buffer runs dry at, rendition, QoE so far, stall s so far, sum of latency
# samples, sum of |bitrate change| kbit/s, index of the parent state)
_State = tuple[float, float, int, float, float, float, float, int]


@dataclass(frozen=True)
class LiveBound:
    qoe_live: float  # the bound, per session like `qoe_live`
    renditions: list[int]  # a plan reaching it, from the join segment on
    rebuffer_s: float  # that plan's stall seconds
    latency_mean_s: float  # mean of its latency samples (one per segment, as qoe_live's)
    switching_kbps: float  # its sum of |bitrate change|


class _FirstByte:
    """The earliest first byte of a request made at `t` or later: min over s >= t of
    s + latency(s) (the trace's latency is per piece, so waiting for a piece can pay)."""

    __slots__ = ("_latency", "_period", "_starts", "_suffix")

    def __init__(self, trace: Trace) -> None:
        self._starts = [0.0]
        for duration in trace.durations_s:
            self._starts.append(self._starts[-1] + float(duration))
        self._period = self._starts.pop()
        self._latency = [float(x) for x in trace.latency_s]
        # suffix[i]: the best first byte from a request at the start of piece i or later in
        # the same loop of the trace.
        self._suffix = [math.inf] * (len(self._starts) + 1)
        for i in range(len(self._starts) - 1, -1, -1):
            self._suffix[i] = min(self._starts[i] + self._latency[i], self._suffix[i + 1])

    def __call__(self, t: float) -> float:
        loops, offset = divmod(t, self._period)
        base = loops * self._period
        i = bisect_right(self._starts, offset) - 1
        return min(
            t + self._latency[i],
            base + self._suffix[i + 1],
            base + self._period + self._suffix[0],  # later loops only add periods
        )


def live_bound(
    trace: Trace, video: Presentation, setup: LiveSetup, config: SessionConfig
) -> LiveBound:
    """The live bound (see the module docstring) of `video` published as `setup` says."""
    channel = LiveChannel(video, setup)
    if channel.chunk_s < channel.segment_s:
        raise LiveSetupError(
            "the live bound models segments made and played whole: no bound for chunked delivery"
        )
    model = _Model(trace, channel, setup, config)
    layers: list[list[_State]] = [model.first()]
    for k in range(model.join + 1, channel.count):
        layers.append(_prune(model.step(k, layers[-1]), model.kbps, model.high))
    best = max(range(len(layers[-1])), key=lambda i: layers[-1][i][3])
    plan: list[int] = []
    index = best
    for layer in reversed(layers):
        state = layer[index]
        plan.append(state[2])
        index = state[7]
    plan.reverse()
    _, _, _, value, stalled, latency, switching, _ = layers[-1][best]
    return LiveBound(value, plan, stalled, latency / len(plan), switching)


def live_plan_qoe(
    trace: Trace, video: Presentation, setup: LiveSetup, config: SessionConfig, plan: list[int]
) -> float:
    """The live QoE of one rendition plan under the bound's model, replayed from scratch (the
    brute force the DP is tested against)."""
    channel = LiveChannel(video, setup)
    model = _Model(trace, channel, setup, config)
    if len(plan) != channel.count - model.join:
        raise ValueError(f"a plan needs {channel.count - model.join} renditions, not {len(plan)}")
    state = model.extend(model.join, None, plan[0], -1)
    for k, q in enumerate(plan[1:], start=model.join + 1):
        state = model.extend(k, state, q, -1)
    return state[3]


class _Model:
    """The channel, link and session rules the bound's plans play under."""

    def __init__(
        self, trace: Trace, channel: LiveChannel, setup: LiveSetup, config: SessionConfig
    ) -> None:
        d = channel.segment_s
        listing = channel.load(0.0)
        edge = LiveEdge(listing, channel.offset_s)
        start = edge.position_at_latency(setup.target_latency_s, channel.offset_s)
        local = listing.segment_at(start - listing.timeline.start_s)
        self.join = listing.timeline.first_number + local
        self.join_rest_s = (self.join + 1) * d - start  # media left in the join segment
        self.channel = channel
        self.segment_s = d
        self.room_s = config.target_s(d) - d
        self.kbps = list(channel.video.bitrates_kbps)
        self.low, self.high = self.kbps[0], self.kbps[-1]
        self.levels = [0] if config.first_rendition == "lowest" else list(range(len(self.kbps)))
        self.link = TraceLink(trace)
        self.first_byte = _FirstByte(trace)

    def first(self) -> list[_State]:
        return [self.extend(self.join, None, q, -1) for q in self.levels]

    def step(self, k: int, states: list[_State]) -> list[_State]:
        return [
            self.extend(k, state, q, parent)
            for parent, state in enumerate(states)
            for q in range(len(self.kbps))
        ]

    def extend(self, k: int, state: _State | None, q: int, parent: int) -> _State:
        """Segment k in rendition q after `state` (None: the join segment)."""
        channel, kbps = self.channel, self.kbps
        available = channel.available_at(k)
        request = max(0.0, available) if state is None else state[0]
        end = self.link.transfer_end(self.first_byte(request), channel.size_bits(k, q))
        if state is None:
            dry, stall, change = end + self.join_rest_s, 0.0, 0.0
            value = stalled = latencies = switching = 0.0
        else:
            _, before, prev, value, stalled, latencies, switching, _ = state
            stall = end - before if end > before else 0.0
            dry = (before if before > end else end) + self.segment_s
            change = abs(kbps[q] - kbps[prev])
        latency = dry - available  # sampled as the segment arrives (see the docstring)
        value += (
            self.segment_s * kbps[q]
            - self.high * stall
            - latency_penalty(latency, self.low, self.high)
            - change
        )
        # The earliest the next request may go: states that differ only in how long before
        # then their download ended are one state.
        ready = max(end, channel.available_at(k + 1), dry - self.room_s)
        return (
            ready,
            dry,
            q,
            value,
            stalled + stall,
            latencies + latency,
            switching + change,
            parent,
        )


def _prune(states: list[_State], kbps: list[float], stall_kbps: float) -> list[_State]:
    """Drop the states another one beats whatever comes next.

    A beats B when its next request goes no later, its buffer runs dry no later and it leads
    by at least the bitrate difference (the most the next switch term can differ) plus
    R_max x (B's dry time - A's): B's extra buffer can save it at most that much stalling
    later (the session's stalls after a state add up to its last dry time minus this one's,
    less the media played), while every other term favours A.

    Sorted by next request, a state can only be beaten by one kept before it; per rendition
    the kept ones form a staircase (dry time up, QoE + R_max x dry time up), so the best among
    those dry no later is one bisection away.
    """
    states.sort(key=lambda s: (s[0], s[1], -s[3]))
    stairs: list[tuple[list[float], list[float]]] = [([], []) for _ in kbps]
    kept: list[_State] = []
    for state in states:
        dry, q = state[1], state[2]
        worth = state[3] + stall_kbps * dry
        beaten = False
        for r, (drys, worths) in enumerate(stairs):
            i = bisect_right(drys, dry) - 1
            if i >= 0 and worths[i] - abs(kbps[r] - kbps[q]) >= worth:
                beaten = True
                break
        if beaten:
            continue
        kept.append(state)
        drys, worths = stairs[q]
        i = bisect_right(drys, dry)
        j = i  # keep the staircase rising: drop the steps this state now beats
        while j < len(worths) and worths[j] <= worth:
            j += 1
        drys[i:j] = [dry]
        worths[i:j] = [worth]
    return kept
