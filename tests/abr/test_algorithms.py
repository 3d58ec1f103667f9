"""Each algorithm does what its users expect of it, on traces that make the point."""

from __future__ import annotations

import itertools
import random

import pytest

from abr.algorithm import AbrAlgorithm
from abr.algorithms.mpc_plan import best_first_rendition
from abr.algorithms.streamlab import StreamlabAbr
from abr.config import SessionConfig
from abr.context import AbrContext, DownloadRecord, Progress, explain
from abr.estimators.harmonic import SlidingHarmonicMean
from abr.manifests import parse_sabre_video
from abr.presentation import Presentation
from abr.registry import BUILTIN, create
from simulator.run import simulate
from simulator.synthetic_video import synthetic_video
from traces import synthetic


def test_bba_picks_the_lowest_rendition_below_the_reservoir(video: Presentation) -> None:
    bba = create("bba")
    ctx = AbrContext(video, buffer_target_s=30.0)
    bba.start(ctx)
    ctx.throughput_kbps = 50_000.0  # plenty: BBA must ignore it
    for level in (0.0, 2.0, 4.9):
        ctx.buffer_s = level
        assert bba.choose(ctx).rendition == 0
    ctx.buffer_s = 29.0
    assert bba.choose(ctx).rendition == len(video.renditions) - 1


def test_bola_climbs_to_the_top_on_an_ample_constant_link(video: Presentation) -> None:
    result = simulate(synthetic.constant(50_000), video, create("bola"))
    played = [q for _, q in result.metrics.buffered]
    top = len(video.renditions) - 1
    assert played[0] == 0
    assert top in played
    assert played[-10:] == [top] * 10
    assert result.summary.rebuffer_s == 0


def test_robustmpc_rides_the_tunnel_that_throughput_stalls_in() -> None:
    # Player defaults (4-segment look-ahead, abandonment on) with 2 s segments: an 8 s buffer.
    video = parse_sabre_video(synthetic_video(segments=120, segment_duration_s=2.0, seed=1))
    tunnel = synthetic.tunnel()
    rate_based = simulate(tunnel, video, create("throughput")).summary
    mpc = simulate(tunnel, video, create("robustmpc")).summary
    assert rate_based.rebuffer_s > 1.0
    assert mpc.rebuffer_s == 0.0


def test_abandonment_fires_in_the_tunnel(video: Presentation) -> None:
    result = simulate(synthetic.tunnel(), video, create("throughput"), SessionConfig())
    abandoned = [d for d in result.metrics.downloads if d.abandoned]
    assert abandoned, "a download at 50 Mbit/s rates caught by the 1 Mbit/s drop must be abandoned"
    tunnel_start = 60.0
    assert all(d.requested_at >= tunnel_start - 5 for d in abandoned)
    assert result.summary.abandoned == len(abandoned)
    without = simulate(
        synthetic.tunnel(), video, create("throughput"), SessionConfig(abandonment=False)
    )
    assert result.summary.rebuffer_s < without.summary.rebuffer_s


def _plan_value(
    plan: tuple[int, ...],
    sizes: list[list[float]],
    durations: list[float],
    mbps: list[float],
    buffer: float,
    last: int,
    bps: float,
    latency: float,
    cap: float,
    weight: float,
) -> float:
    value, prev = 0.0, last
    for q, row, seg in zip(plan, sizes, durations, strict=True):
        buffer = min(buffer, cap - seg) if buffer > cap - seg > 0 else buffer
        d = latency + row[q] / bps
        stall = max(d - buffer, 0.0)
        buffer = max(buffer - d, 0.0) + seg
        value += mbps[q] - weight * abs(mbps[q] - mbps[prev]) - 4.3 * stall
        prev = q
    return value


@pytest.mark.parametrize("switch_weight", [1.0, 4.0])
@pytest.mark.parametrize("seed", range(40))
def test_mpc_planner_matches_full_enumeration(seed: int, switch_weight: float) -> None:
    rng = random.Random(seed)
    levels = rng.randint(2, 5)
    mbps = sorted(rng.uniform(0.2, 6.0) for _ in range(levels))
    horizon = rng.randint(1, 4)
    durations = [rng.choice([2.0, 4.0]) for _ in range(horizon)]
    sizes = [[m * 1e6 * d * rng.uniform(0.7, 1.3) for m in mbps] for d in durations]
    args = dict(
        buffer=rng.uniform(0, 20),
        last=rng.randrange(levels),
        bps=rng.uniform(0.2e6, 8e6),
        latency=rng.uniform(0, 0.2),
        cap=rng.uniform(8, 30),
        weight=switch_weight,
    )
    best = max(
        _plan_value(p, sizes, durations, mbps, **args)  # type: ignore[arg-type]
        for p in itertools.product(range(levels), repeat=horizon)
    )
    first = best_first_rendition(
        sizes,
        durations,
        mbps,
        args["buffer"],
        int(args["last"]),
        args["bps"],
        args["latency"],
        args["cap"],
        levels - 1,
        switch_weight=switch_weight,
    )
    best_with_first = max(
        _plan_value(p, sizes, durations, mbps, **args)  # type: ignore[arg-type]
        for p in itertools.product(range(levels), repeat=horizon)
        if p[0] == first
    )
    assert best_with_first == pytest.approx(best, abs=1e-9)


def test_streamlab_rides_the_tunnel_that_throughput_stalls_in() -> None:
    # A step down from 50 to 1 Mbit/s with an 8 s buffer: the rate rule is caught mid-download.
    video = parse_sabre_video(synthetic_video(segments=120, segment_duration_s=2.0, seed=1))
    tunnel = synthetic.tunnel()
    rate_based = simulate(tunnel, video, create("throughput")).summary
    streamlab = simulate(tunnel, video, create("streamlab")).summary
    assert rate_based.rebuffer_s > 1.0
    assert streamlab.rebuffer_s == 0.0


def test_streamlab_reaches_the_top_rung_on_a_fat_link(video: Presentation) -> None:
    result = simulate(synthetic.constant(50_000), video, create("streamlab"))
    played = [q for _, q in result.metrics.buffered]
    top = len(video.renditions) - 1
    assert played[-10:] == [top] * 10
    assert result.summary.rebuffer_s == 0


def test_streamlab_climbs_after_a_step_up_sooner_than_robustmpc(video: Presentation) -> None:
    # 1 -> 30 Mbit/s: RobustMPC's five-sample window keeps believing the old rate for a while.
    link = synthetic.step(1_000, 30_000, at_s=60.0)
    top = len(video.renditions) - 1

    def segments_to_top(name: str) -> int:
        result = simulate(link, video, create(name))
        after = [d.rendition_index for d in result.metrics.downloads if d.requested_at >= 60.0]
        assert top in after
        return after.index(top)

    assert segments_to_top("streamlab") < segments_to_top("robustmpc")


def test_a_level_shift_restarts_the_harmonic_window() -> None:
    plain, shifting = SlidingHarmonicMean(5), SlidingHarmonicMean(5, shift_ratio=2.0)
    for kbps in (1_000.0, 1_100.0, 900.0, 1_000.0, 20_000.0):
        for estimator in (plain, shifting):
            estimator.add_sample(1.0, kbps, 0.05)
    assert shifting.throughput_kbps == 20_000.0
    assert plain.throughput_kbps is not None and plain.throughput_kbps < 1_300.0
    shifting.add_sample(1.0, 15_000.0, 0.05)  # within the ratio: averaged, not restarted
    assert shifting.throughput_kbps is not None and 15_000.0 < shifting.throughput_kbps < 20_000.0


def test_streamlab_keeps_a_download_that_arrives_before_the_buffer_runs_dry(
    video: Presentation,
) -> None:
    ctx = AbrContext(video, buffer_target_s=16.0)
    ctx.buffer_s = 4.0
    size = ctx.sizes_bits[5][5]
    # A quarter received after 1 s of transfer: 3 s to go, 1 s before the buffer runs dry.
    late = Progress(5, 5, size, size / 4, elapsed_s=1.05, latency_s=0.05)
    classic, streamlab = create("robustmpc"), create("streamlab")
    classic.start(ctx)
    streamlab.start(ctx)
    assert classic.should_abandon(ctx, late) is not None  # its half-segment margin gives up
    assert streamlab.should_abandon(ctx, late) is None
    ctx.buffer_s = 2.0  # now it would stall: give up for a lower rendition
    assert streamlab.should_abandon(ctx, late) is not None


def _full_buffer_prediction(video: Presentation, rates_kbps: list[float]) -> float:
    """streamlab's planning throughput with a full buffer after downloads at `rates_kbps`."""
    ctx = AbrContext(video, buffer_target_s=16.0)
    algorithm = create("streamlab")
    assert isinstance(algorithm, StreamlabAbr)
    algorithm.start(ctx)
    for i, kbps in enumerate(rates_kbps):
        algorithm.choose(ctx)  # records the prediction each error is measured against
        record = DownloadRecord(i, 0, 1e6, i, i + 0.05, i + 1.0, kbps, 0.05, 8.0, 8.0, 0.0)
        algorithm.on_download(ctx, record)
    ctx.buffer_s = 16.0
    prediction = algorithm.predict_kbps(ctx)
    assert prediction is not None
    return prediction


def test_after_an_outage_on_a_slow_link_a_full_buffer_no_longer_buys_a_higher_rung(
    video: Presentation,
) -> None:
    # 0.9-1.5 Mbit/s, 4-6x the lowest rung (235 kbit/s): the next outage outlasts the buffer.
    noisy = [1_500.0, 900.0, 1_500.0, 1_000.0, 1_500.0, 950.0, 1_500.0, 1_200.0]
    steady = _full_buffer_prediction(video, noisy)
    after_outage = _full_buffer_prediction(video, [*noisy[:5], 100.0, *noisy[5:]])
    assert after_outage < 0.8 * steady


def test_after_a_short_drop_on_a_fast_link_a_full_buffer_plans_at_the_link_rate(
    video: Presentation,
) -> None:
    # Wi-Fi at ~8 Mbit/s (34x the lowest rung) drops to 100 kbit/s for one download and is
    # back: the drop's 80x over-estimate must not pin the plan to the lowest rung.
    fast = [8_000.0, 7_000.0, 8_500.0, 7_500.0, 8_000.0]
    after_drop = _full_buffer_prediction(video, [*fast, 100.0, *fast[:3]])
    assert after_drop > 0.8 * _full_buffer_prediction(video, fast + fast[:4])


@pytest.mark.parametrize(
    ("arguments", "message"),
    [({"error_quantile": 1.5}, "error_quantile"), ({"slow_link_ratio": 0.0}, "slow_link_ratio")],
)
def test_streamlab_rejects_settings_outside_their_range(
    arguments: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        StreamlabAbr(**arguments)


@pytest.mark.parametrize("name", sorted(BUILTIN))
def test_every_builtin_says_why_it_chose_each_download(name: str, video: Presentation) -> None:
    result = simulate(synthetic.tunnel(), video, create(name))
    reasons = [record.explanation for record in result.metrics.downloads]
    assert reasons[0] == "first segment: lowest rendition"
    assert all(reasons) and not any("no reason given" in r for r in reasons)
    assert len(set(reasons)) > 3  # the reason follows the state, not a fixed label


class _Silent(AbrAlgorithm):
    """A third-party algorithm that answers with a bare index, and abandons with one."""

    name = "silent"

    def choose(self, ctx: AbrContext) -> int:
        return ctx.max_rendition

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | None:
        return 0 if progress.rendition_index > 0 and progress.elapsed_s > 1.0 else None


def test_an_algorithm_that_gives_no_reason_is_named_in_the_log(video: Presentation) -> None:
    downloads = simulate(synthetic.tunnel(), video, _Silent()).metrics.downloads
    reasons = {record.explanation for record in downloads[1:]}
    assert "silent: no reason given" in reasons
    assert "abandoned by silent" in reasons


def test_a_deferred_reason_reads_as_the_text_it_stands_for() -> None:
    # dynamic quotes the rule it followed; the session appends why it overrode the choice.
    quoted = ("{}; quality cap", ("dynamic: {}", ("bola score at buffer {:.1f} s", 3.25)))
    assert explain(quoted) == "dynamic: bola score at buffer 3.2 s; quality cap"
    assert explain("first segment: lowest rendition") == "first segment: lowest rendition"
