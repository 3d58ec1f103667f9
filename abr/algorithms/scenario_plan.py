"""Stochastic look-ahead planning: the first rendition with the best expected QoE_lin over a few
throughput scenarios (quantiles of a predicted distribution, each with its probability).

In every scenario the link holds one rate over the horizon. The plan commits to the first
rendition only: after it arrives the algorithm plans again with what it learnt, so within each
scenario the rest of the horizon is played at the best *single* rendition for that scenario
(holding it or switching to it once). Holding one rendition on a constant link has a closed
form: its downloads take `latency + bits / rate` each, and the horizon stalls by however much
their total outlasts the buffer after the first download plus the media played meanwhile.
That makes a decision a few dozen closed forms instead of an exact search over 10^5 plans
(`mpc_plan`), and a plan that is bad in the low quantile is charged
there, by its probability, instead of through a discount on one forecast.
"""

from __future__ import annotations

from bisect import bisect_right


def best_first_rendition(
    rates_bps: list[float],
    probabilities: list[float],
    first_bits: list[float],
    rest_bits: list[float],
    rest_count: int,
    first_s: float,
    rest_played_s: float,
    room_s: float,
    mbps: list[float],
    buffer_s: float,
    last: int,
    latency_s: float,
    candidates: list[int],
    rebuffer_penalty: float = 4.3,
    switch_weight: float = 1.0,
) -> int:
    """The candidate first rendition with the highest expected QoE_lin over the scenarios.

    `first_bits[q]`: the next segment at rendition q, lasting `first_s`. `rest_bits[q]`: the
    `rest_count` segments after it together; `rest_played_s` is the media that plays while
    they download (all of them but the last). `room_s`: the most buffer the session holds when
    it requests the second segment (the target less that segment). `rest_bits` must rise with
    q, as a ladder's sizes do.
    """
    last_mbps = mbps[last]
    # Per scenario: how long the rest takes at each rendition (rising with the rendition).
    rest_times = [
        [rest_count * latency_s + bits / rate for bits in rest_bits] for rate in rates_bps
    ]
    top = len(rest_bits) - 1
    best_first = candidates[0]
    best_value = float("-inf")
    for q in candidates:
        rate_q = mbps[q]
        value = rate_q - switch_weight * (
            rate_q - last_mbps if rate_q > last_mbps else last_mbps - rate_q
        )
        size = first_bits[q]
        for rate, probability, times in zip(rates_bps, probabilities, rest_times, strict=True):
            download = latency_s + size / rate
            if download > buffer_s:
                outcome = -rebuffer_penalty * (download - buffer_s)
                after = first_s
            else:
                outcome = 0.0
                after = buffer_s - download + first_s
            if after > room_s > 0:
                after = room_s
            if rest_count:
                budget = after + rest_played_s
                # The highest rendition whose rest arrives without a stall, the one above it
                # (a short stall may pay), and the first one held (no second switch).
                safe = bisect_right(times, budget) - 1
                best_rest = float("-inf")
                for r in (safe, safe + 1, q):
                    if r < 0 or r > top:
                        continue
                    rate_r = mbps[r]
                    stall = times[r] - budget
                    v = rest_count * rate_r - switch_weight * (
                        rate_r - rate_q if rate_r > rate_q else rate_q - rate_r
                    )
                    if stall > 0:
                        v -= rebuffer_penalty * stall
                    if v > best_rest:
                        best_rest = v
                outcome += best_rest
            value += probability * outcome
        if value > best_value:
            best_value, best_first = value, q
    return best_first
