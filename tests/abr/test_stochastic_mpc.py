"""`stochasticmpc`: the learned throughput quantiles and the planner over them."""

from __future__ import annotations

import pytest

from abr.algorithms.scenario_plan import best_first_rendition
from abr.estimators.quantile import FEATURES, QuantileModel, ThroughputQuantiles
from abr.estimators.quantile_fit import FIT
from abr.manifests import parse_sabre_video
from abr.presentation import Presentation
from abr.registry import create
from simulator.run import simulate
from simulator.synthetic_video import synthetic_video
from traces import synthetic

MBPS = [0.3, 0.75, 1.2, 1.85, 2.85, 4.3]
DURATION_S = 4.0


def _choose(rates_mbps: list[float], probabilities: list[float], buffer_s: float) -> int:
    """The planner on a constant-bitrate ladder, 5-segment horizon, 12 s buffer target."""
    first = [m * 1e6 * DURATION_S for m in MBPS]
    return best_first_rendition(
        [r * 1e6 for r in rates_mbps],
        probabilities,
        first,
        [4 * bits for bits in first],
        4,
        DURATION_S,
        3 * DURATION_S,
        12.0 - DURATION_S,
        MBPS,
        buffer_s,
        2,
        0.05,
        list(range(len(MBPS))),
    )


def test_a_certain_rate_is_planned_at_the_highest_rung_it_sustains() -> None:
    assert _choose([2.0], [1.0], buffer_s=8.0) == MBPS.index(1.85)


def test_a_low_tail_lowers_the_first_download_while_the_buffer_is_thin() -> None:
    # The same median; one time in four the link halves.
    certain = _choose([2.0], [1.0], buffer_s=4.0)
    risky = _choose([1.0, 2.0, 2.0], [0.25, 0.5, 0.25], buffer_s=4.0)
    assert risky < certain
    # A fuller buffer absorbs the same tail: the plan keeps the rung the median sustains.
    assert _choose([1.0, 2.0, 2.0], [0.25, 0.5, 0.25], buffer_s=8.0) == certain
    assert _choose([2.0], [1.0], buffer_s=8.0) == certain


def _fed(scale: float) -> ThroughputQuantiles:
    estimator = ThroughputQuantiles(FIT)
    for kbps in (3000, 2500, 900, 2800, 3100, 200, 2700):
        estimator.add_sample(1.5, kbps * scale, 0.04, 4.0)
    return estimator


def test_the_quantiles_rise_and_scale_with_the_link() -> None:
    slow, fast = _fed(1.0), _fed(10.0)
    assert slow.quantiles_kbps == sorted(slow.quantiles_kbps)
    assert len(slow.quantiles_kbps) == len(FIT.levels)
    assert fast.quantiles_kbps == pytest.approx([10 * q for q in slow.quantiles_kbps])


def test_the_probabilities_of_the_quantiles_add_up_to_one() -> None:
    assert sum(FIT.weights) == pytest.approx(1.0)
    assert QuantileModel((0.1, 0.5, 0.9), ((0.0,) * 12,) * 3, 4).weights == pytest.approx(
        (0.3, 0.4, 0.3)
    )


def test_the_shipped_fit_says_how_to_make_it_again() -> None:
    assert "make train" in FIT.command
    assert len(FIT.corpus_sha256) == 64


@pytest.mark.parametrize(
    ("levels", "coefficients", "message"),
    [
        ((0.5, 0.1), ((0.0,) * 12,) * 2, "ascending"),
        ((0.5,), ((0.0,) * 11,), "rows of 12"),
        ((1.0,), ((0.0,) * 12,), "within"),
    ],
)
def test_a_malformed_model_is_refused_naming_what(
    levels: tuple[float, ...], coefficients: tuple[tuple[float, ...], ...], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        QuantileModel(levels, coefficients, 4)


def test_a_model_for_other_features_is_refused() -> None:
    with pytest.raises(ValueError, match="re-train"):
        QuantileModel((0.5,), ((0.0,) * 12,), 4, features=tuple(reversed(FEATURES)))


def test_stochasticmpc_rides_the_tunnel_that_throughput_stalls_in() -> None:
    video = parse_sabre_video(synthetic_video(segments=120, segment_duration_s=2.0, seed=1))
    tunnel = synthetic.tunnel()
    assert simulate(tunnel, video, create("throughput")).summary.rebuffer_s > 1.0
    assert simulate(tunnel, video, create("stochasticmpc")).summary.rebuffer_s == 0.0


def test_stochasticmpc_reaches_the_top_rung_on_a_fat_link(video: Presentation) -> None:
    result = simulate(synthetic.constant(50_000), video, create("stochasticmpc"))
    played = [q for _, q in result.metrics.buffered]
    assert played[-10:] == [len(video.renditions) - 1] * 10
    assert result.summary.rebuffer_s == 0
