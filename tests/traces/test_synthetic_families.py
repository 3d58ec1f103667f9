"""The synthetic link families an ABR is checked on beyond the dev traces (`bench.unseen_families`)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traces import synthetic

seeds = st.integers(0, 2**31 - 1)


@settings(max_examples=30, deadline=None)
@given(seed=seeds, per_family=st.integers(1, 3))
def test_every_family_trace_covers_ten_minutes_at_positive_rates(
    seed: int, per_family: int
) -> None:
    traces = synthetic.families(per_family, seed)
    assert len(traces) == 7 * per_family
    names = {t.set_name for t in traces}
    assert len(names) == 7
    for trace in traces:
        assert trace.durations_s.sum() == pytest.approx(600.0)
        assert (trace.bandwidth_kbps > 0).all()
        assert (trace.durations_s > 0).all()


def test_families_are_reproducible_from_their_seed() -> None:
    assert synthetic.families(2, seed=7) == synthetic.families(2, seed=7)
    assert synthetic.families(2, seed=7) != synthetic.families(2, seed=8)


def test_scale_multiplies_every_rate_for_another_ladder() -> None:
    plain, scaled = synthetic.families(1, seed=3), synthetic.families(1, seed=3, scale=6.0)
    for a, b in zip(plain, scaled, strict=True):
        assert b.bandwidth_kbps == pytest.approx(6.0 * a.bandwidth_kbps)


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_short_drops_fall_to_the_low_rate_for_at_most_the_longest_drop(seed: int) -> None:
    trace = synthetic.short_drops(8000.0, 200.0, seed, mean_gap_s=20.0, longest_s=4)
    low = np.flatnonzero(trace.bandwidth_kbps == 200.0)
    assert len(low) > 0  # 600 s at one drop per ~20 s
    runs = np.split(low, np.flatnonzero(np.diff(low) > 1) + 1)
    assert max(len(run) for run in runs) <= 4
    high = trace.bandwidth_kbps[trace.bandwidth_kbps != 200.0]
    assert 6000.0 < np.median(high) < 10_000.0


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_random_steps_hold_levels_within_the_range(seed: int) -> None:
    trace = synthetic.random_steps(300.0, 8000.0, seed, hold_s=(30.0, 120.0))
    assert ((trace.bandwidth_kbps >= 300.0) & (trace.bandwidth_kbps <= 8000.0)).all()
    assert (trace.durations_s[:-1] >= 30.0).all() and (trace.durations_s <= 120.0).all()


@settings(max_examples=30, deadline=None)
@given(seed=seeds)
def test_outages_alternate_with_the_link_rate(seed: int) -> None:
    trace = synthetic.outages(5000.0, seed, length_s=(5.0, 30.0))
    assert list(trace.bandwidth_kbps[:4]) == [5000.0, 30.0, 5000.0, 30.0]
    down = trace.durations_s[1::2][:-1]  # the last piece may be cut by the trace's end
    assert ((down >= 5.0) & (down <= 30.0)).all()


def test_a_random_walk_wanders_around_its_level() -> None:
    calm = synthetic.random_walk(2000.0, seed=1, memory=0.9, sigma=0.05)
    volatile = synthetic.random_walk(2000.0, seed=1, memory=0.9, sigma=0.4)
    assert 1500.0 < np.median(calm.bandwidth_kbps) < 2700.0
    spread = [np.std(np.log(t.bandwidth_kbps)) for t in (calm, volatile)]
    assert spread[1] > 4 * spread[0]
    with pytest.raises(ValueError, match="memory"):
        synthetic.random_walk(2000.0, seed=1, memory=1.0)
