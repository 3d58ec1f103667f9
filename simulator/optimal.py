"""The offline optimum: the best QoE_lin any algorithm could reach knowing the whole trace.

Same model as the simulator with abandonment off (abandonment never helps with full
knowledge): one request at a time, each waits for room below the buffer target, pays the
trace's latency and then the trace's bandwidth; playback starts after the first segment.

Dynamic programming over segments. A state after segment k is (time the download ended,
time the buffer would run dry, rendition, QoE so far). States are merged on a grid: per
rendition, one state per (end time, buffer level) cell of `grid_s` seconds, the best one.
Every kept state is an exact, achievable plan, so the result is a lower bound on the true
optimum that tightens as the grid shrinks. Measured on 24 dev traces (6 per Sabre set) against
an independent DP with a 250 ms grid (`../shared/anchors/optimum-dev.csv`): the 1 s grid
is within 0.03 QoE_lin per trace (mostly within 0.005), at 0.04-0.8 s per trace.

QoE_lin with start-up charged as stall time (`abr.qoe`'s qoe_lin_startup): start-up is when
the first segment's download ends. `charge_startup=True` puts it in the DP's objective (the
first layer's values), so the plan is that metric's optimum, not QoE_lin's optimum re-scored;
`optima` gives both and runs the DP once when the first rendition is fixed (then every plan
starts at the same time, so one plan is optimal for both).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import pairwise

from abr.presentation import Presentation
from abr.qoe import REBUFFER_PENALTY_LIN
from simulator.link import TraceLink
from traces.trace import Trace

# (download ended at, buffer runs dry at, rendition, QoE so far, index of the parent state)
_State = tuple[float, float, int, float, int]


@dataclass(frozen=True)
class OptimalPlan:
    """The best plan for one objective (QoE_lin, or with `charge_startup` QoE_lin with start-up
    as stall time), and both metrics of that plan."""

    qoe_lin: float  # per segment, as in the QoE summary
    renditions: list[int]
    rebuffer_s: float
    switching_mbps: float  # sum of |bitrate change| between consecutive segments
    startup_s: float  # the first segment's download ended: playback starts
    qoe_lin_startup: float  # per segment, start-up charged as stall time


def optimal_qoe_lin(
    trace: Trace,
    presentation: Presentation,
    buffer_target_s: float,
    *,
    first_lowest: bool = True,
    grid_s: float = 1.0,
    charge_startup: bool = False,
) -> OptimalPlan:
    link = TraceLink(trace)
    mbps = [r.bandwidth_bps / 1e6 for r in presentation.renditions]
    sizes = presentation.size_table_bits()
    durations = presentation.segment_durations_s
    levels = range(len(mbps))
    layers: list[list[_State]] = []

    first = [0] if first_lowest else list(levels)
    start: list[_State] = []
    for q in first:
        first_byte = link.latency_at(0.0)
        done = link.transfer_end(first_byte, sizes[0][q])
        value = mbps[q] - (REBUFFER_PENALTY_LIN * done if charge_startup else 0.0)
        start.append((done, done + durations[0], q, value, -1))
    layers.append(start)

    for k in range(1, len(durations)):
        room = buffer_target_s - durations[k]
        merged: dict[tuple[int, int, int], _State] = {}
        for parent, (done, dry, prev, value, _) in enumerate(layers[-1]):
            request = max(done, dry - room)  # wait for room below the target
            first_byte = request + link.latency_at(request)
            capacity = link.capacity_at(first_byte)
            for q in levels:
                end = link.time_at_capacity(capacity + sizes[k][q])
                stall = end - dry if end > dry else 0.0
                change = mbps[q] - mbps[prev]
                score = value + mbps[q] - abs(change) - REBUFFER_PENALTY_LIN * stall
                new_dry = (dry if dry > end else end) + durations[k]
                key = (q, int(end / grid_s), int((new_dry - end) / grid_s))
                held = merged.get(key)
                if held is None or score > held[3]:
                    merged[key] = (end, new_dry, q, score, parent)
        layers.append(_prune(list(merged.values()), mbps))

    best = max(range(len(layers[-1])), key=lambda i: layers[-1][i][3])
    path: list[_State] = []
    index = best
    for layer in reversed(layers):
        path.append(layer[index])
        index = path[-1][4]
    path.reverse()
    plan = [state[2] for state in path]
    count = len(durations)
    startup = path[0][0]  # the first download ended: playback starts
    startup_charge = REBUFFER_PENALTY_LIN * startup / count
    value = layers[-1][best][3] / count
    qoe_lin, qoe_lin_startup = (
        (value + startup_charge, value) if charge_startup else (value, value - startup_charge)
    )
    rebuffer = _replay_rebuffer(link, plan, sizes, list(durations), buffer_target_s)
    switching = sum(abs(mbps[b] - mbps[a]) for a, b in pairwise(plan))
    return OptimalPlan(qoe_lin, plan, rebuffer, switching, startup, qoe_lin_startup)


def optima(
    trace: Trace,
    presentation: Presentation,
    buffer_target_s: float,
    *,
    first_lowest: bool = True,
    grid_s: float = 1.0,
) -> tuple[OptimalPlan, OptimalPlan]:
    """The optimum under QoE_lin and under QoE_lin with start-up as stall time.

    With the first rendition fixed every plan's start-up is the same (the first download
    starts at 0 whatever follows), so the two objectives differ by a constant and one DP
    serves both; otherwise the second objective gets a DP of its own.
    """
    plain = optimal_qoe_lin(
        trace, presentation, buffer_target_s, first_lowest=first_lowest, grid_s=grid_s
    )
    if first_lowest:
        return plain, plain
    startup = optimal_qoe_lin(
        trace,
        presentation,
        buffer_target_s,
        first_lowest=first_lowest,
        grid_s=grid_s,
        charge_startup=True,
    )
    return plain, startup


def unavoidable_rebuffer_s(
    trace: Trace, presentation: Presentation, buffer_target_s: float
) -> float:
    """Stall seconds no algorithm can avoid on this trace: those of always the lowest rendition.

    Under this link model a smaller download never ends later, so by induction over the
    segments that plan has every download done, and the buffer running dry, no later than any
    other plan's: it stalls the least. A set's rebuffer ratio above this is the algorithm's.
    """
    lowest = [0] * presentation.segment_count
    sizes = presentation.size_table_bits()
    durations = list(presentation.segment_durations_s)
    return _replay_rebuffer(TraceLink(trace), lowest, sizes, durations, buffer_target_s)


def _prune(states: list[_State], mbps: list[float]) -> list[_State]:
    """Drop states another state beats in every respect.

    B is dominated by A when A ended no later, has at least B's buffer, and leads B in QoE
    by at least |bitrate(A) - bitrate(B)| (the most the next switch penalty can differ).
    """
    states.sort(key=lambda s: (s[0], -s[3]))
    kept: list[_State] = []
    for state in states:
        done, dry, q, value, _ = state
        buffer = dry - done
        dominated = False
        for other in kept:
            if other[1] - other[0] >= buffer and other[3] - abs(mbps[other[2]] - mbps[q]) >= value:
                dominated = True
                break
        if not dominated:
            kept.append(state)
    return kept


def _replay_rebuffer(
    link: TraceLink,
    plan: list[int],
    sizes: list[list[float]],
    durations: list[float],
    buffer_target_s: float,
) -> float:
    """Stall seconds of the plan, replayed from scratch (a check on the DP's bookkeeping)."""
    first_byte = link.latency_at(0.0)
    done = link.transfer_end(first_byte, sizes[0][plan[0]])
    dry = done + durations[0]
    stalled = 0.0
    for k in range(1, len(plan)):
        request = max(done, dry - (buffer_target_s - durations[k]))
        first_byte = request + link.latency_at(request)
        done = link.transfer_end(first_byte, sizes[k][plan[k]])
        if done > dry:
            stalled += done - dry
        dry = max(dry, done) + durations[k]
    return stalled
