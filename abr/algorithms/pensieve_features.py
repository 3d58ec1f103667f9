"""What the `pensieve` policy sees and what its actions mean, on any ladder.

Pensieve's state (Mao et al., SIGCOMM 2017): the last 8 throughputs and download times, the
buffer, the next segment's size at every rung, the share of the video left and the last
rung, and one derived quantity an MLP would otherwise have to learn to compute (a product
of two inputs): how long the next segment would take at each rung at the harmonic mean of
the last 5 throughputs (RobustMPC's estimate). Every quantity is relative to the ladder (rates to its top bitrate, times and
sizes to the segment duration), and the ladder is read at `RUNGS` evenly spaced positions,
so one trained network plays ladders of any height and rate: on a ladder of `RUNGS`
renditions (the dev video's) the positions are its rungs.

Training (`bench.train_pensieve`) and the algorithm (`abr.algorithms.pensieve`) both call
`features` on the session's `AbrContext`, so what the agent learned on is what it plays on.

    | index           | name           | unit                                   |
    |-----------------|----------------|----------------------------------------|
    | 0 .. 7          | throughput     | / top bitrate; last 8, newest first, 0-padded |
    | 8 .. 15         | download time  | / segment duration; same order         |
    | 16              | buffer         | / segment duration                     |
    | 17 .. 26        | next sizes     | bits / (top bitrate x segment duration), at each position |
    | 27 .. 36        | download time at each position | / segment duration (`CEILING` before any download) |
    | 37              | segments left  | share of the video not yet requested   |
    | 38              | last rung      | last rendition / top rendition index   |
"""

from __future__ import annotations

import numpy as np

from abr.context import AbrContext

HISTORY = 8
RUNGS = 10
ESTIMATE_WINDOW = 5  # RobustMPC's
FEATURES = 2 * HISTORY + 1 + 2 * RUNGS + 2
# Past this a ratio says nothing more (a link 10x the top bitrate is as good as 100x), and
# bounded inputs keep the network's tanh units out of saturation.
CEILING = 10.0


def features(ctx: AbrContext) -> np.ndarray:
    """The policy's input for the decision about `ctx.segment_index` (float32, `FEATURES`)."""
    top_kbps = ctx.bitrates_kbps[-1]
    duration = ctx.segment_duration_s
    x = np.zeros(FEATURES, dtype=np.float64)
    recent = [d for d in ctx.downloads if not d.abandoned][-HISTORY:]
    for i, record in enumerate(reversed(recent)):
        x[i] = record.throughput_kbps / top_kbps
        x[HISTORY + i] = (record.done_at - record.requested_at) / duration
    x[2 * HISTORY] = ctx.buffer_s / duration
    index = min(ctx.segment_index, ctx.segment_count - 1)
    sizes = np.asarray(ctx.sizes_bits[index], dtype=np.float64) / (top_kbps * 1000.0 * duration)
    positions = np.linspace(0.0, ctx.max_rendition, RUNGS)
    at = 2 * HISTORY + 1
    x[at : at + RUNGS] = np.interp(positions, np.arange(len(sizes)), sizes)
    if recent:
        window = [r.throughput_kbps for r in recent[-ESTIMATE_WINDOW:]]
        estimate = len(window) / sum(1.0 / max(t, 1e-3) for t in window)
        x[at + RUNGS : at + 2 * RUNGS] = x[at : at + RUNGS] * top_kbps / estimate
    else:
        x[at + RUNGS : at + 2 * RUNGS] = CEILING
    x[-2] = ctx.segments_left / ctx.segment_count
    x[-1] = (ctx.last_rendition or 0) / max(ctx.max_rendition, 1)
    return np.clip(x, 0.0, CEILING).astype(np.float32)


def rendition_for(action: int, max_rendition: int) -> int:
    """The rendition an action (a position, 0..RUNGS-1) names on a ladder topping at `max_rendition`."""
    return round(action * max_rendition / (RUNGS - 1))
