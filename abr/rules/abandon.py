"""Abandon a download that will finish after the buffer runs (nearly) dry.

At the rate measured so far, if the rest of the download would leave less than
`safety_s` of buffer, re-request the segment at the highest lower rendition that would
arrive in time (paying the latency again). Abandon only when that actually finishes sooner.
"""

from __future__ import annotations

from abr.context import AbrContext, Decision, Progress

MIN_TRANSFER_S = 0.2  # below this the measured rate is mostly noise


def abandon_if_late(
    ctx: AbrContext, progress: Progress, safety_s: float | None = None
) -> Decision | None:
    if progress.rendition_index == 0 or progress.latency_s is None:
        return None
    transfer_s = progress.elapsed_s - progress.latency_s
    if transfer_s < MIN_TRANSFER_S or progress.received_bits <= 0:
        return None
    rate = progress.received_bits / transfer_s  # bit/s
    remaining_s = (progress.size_bits - progress.received_bits) / rate
    if safety_s is None:
        safety_s = 0.5 * ctx.segment_duration_s
    budget_s = ctx.buffer_s - safety_s
    if remaining_s <= budget_s:
        return None
    sizes = ctx.sizes_bits[progress.segment_index]
    for q in range(progress.rendition_index - 1, -1, -1):
        fresh_s = progress.latency_s + sizes[q] / rate
        if fresh_s <= budget_s or q == 0:
            if fresh_s >= remaining_s:
                return None
            return Decision(
                q, reason=("abandoned: {:.1f} s left, buffer {:.1f} s", remaining_s, ctx.buffer_s)
            )
    return None
