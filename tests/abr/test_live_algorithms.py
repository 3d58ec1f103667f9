"""The live ABR algorithms (L2A-LL, LoL+) and the built-ins on a live channel, as a viewer would
notice: latency held, renditions chosen, playback slowed before a stall, rates in bounds.
0.5 s segments stand in for low-latency chunks (driver: `live_channel`)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from live_channel import Channel, LiveDriver

from abr.algorithm import AbrAlgorithm
from abr.algorithms.l2a import project_to_simplex
from abr.commands import SetPlaybackRate, StallStarted
from abr.config import SessionConfig
from abr.context import AbrContext
from abr.registry import create
from abr.session import Session

JOIN_AT = 60.0
TARGET = 1.5
CHUNK = Channel(segment_s=0.5)


def live(name: str, **config: object) -> Session:
    return Session(create(name), SessionConfig(live_target_latency_s=TARGET, **config))  # type: ignore[arg-type]


def test_lolp_holds_the_latency_within_half_a_second_of_a_1_5_s_target() -> None:
    session = live("lolp")
    driver = LiveDriver(session, CHUNK, bandwidth_bps=5_000_000)
    driver.start(JOIN_AT)
    run = driver.until(JOIN_AT + 180)
    settled = run.latency_between(JOIN_AT + 10, JOIN_AT + 180)
    assert settled and all(abs(v - TARGET) <= 0.5 for v in settled), (min(settled), max(settled))
    metrics = session.metrics()
    assert metrics.stall_count == 0
    recent = [q for _, q in metrics.buffered][-40:]
    assert recent.count(3) >= 30, recent  # the top rung, but for the map's probes below (34 of 40)


def test_lolp_slows_playback_before_it_stalls_on_a_step_down() -> None:
    session = live("lolp")
    driver = LiveDriver(session, CHUNK, bandwidth_bps=5_000_000)
    driver.start(JOIN_AT)
    driver.until(JOIN_AT + 30)
    driver.bandwidth_bps = 1_000_000
    run = driver.until(JOIN_AT + 90)
    after = [(t, c) for t, c in run.commands if t >= JOIN_AT + 30]
    slowed = next(t for t, c in after if isinstance(c, SetPlaybackRate) and c.rate < 1)
    stalled = next((t for t, c in after if isinstance(c, StallStarted)), None)
    # The session's own catch-up slows only under a quarter second of buffer, a tenth of a
    # second before this stall; LoL+ slows from half a second of buffer.
    assert stalled is None or slowed <= stalled - 0.2, (slowed, stalled)
    recent = [q for _, q in session.metrics().buffered][-20:]
    assert max(recent) <= 1 and recent.count(1) >= 15, recent  # what 1 Mbit/s holds


@pytest.mark.parametrize(("bandwidth_bps", "rung"), [(5e6, 3), (2e6, 2), (1e6, 1), (6e5, 0)])
def test_l2a_picks_the_highest_sustainable_rung_within_a_few_segments_and_holds_it(
    bandwidth_bps: float, rung: int
) -> None:
    session = live("l2a")
    driver = LiveDriver(session, CHUNK, bandwidth_bps=bandwidth_bps)
    driver.start(JOIN_AT)
    driver.until(JOIN_AT + 120)
    metrics = session.metrics()
    rungs = [q for _, q in metrics.buffered]
    assert rungs[4:] == [rung] * len(rungs[4:]), rungs[:12]
    assert metrics.stall_count == 0


@pytest.mark.parametrize("name", ["l2a", "lolp"])
def test_rates_stay_within_the_configured_change(name: str) -> None:
    session = live(name, live_max_rate_change=0.05)
    driver = LiveDriver(
        session, CHUNK, bandwidth_bps=5_000_000, outages=((JOIN_AT + 20, JOIN_AT + 22),)
    )
    driver.start(JOIN_AT)
    run = driver.until(JOIN_AT + 90)  # the driver also checks each rate against the bound
    assert run.rates() and all(0.95 <= r <= 1.05 for r in run.rates())
    assert any(r != 1.0 for r in run.rates())


@pytest.mark.parametrize("name", ["throughput", "bola", "streamlab", "l2a", "lolp"])
def test_runs_live_at_a_1_5_s_target_without_starving(name: str) -> None:
    session = live(name)
    driver = LiveDriver(session, CHUNK, bandwidth_bps=5_000_000)
    driver.start(JOIN_AT)
    run = driver.until(JOIN_AT + 120)
    metrics = session.metrics()
    assert metrics.stall_count == 0
    assert len(run.fetched) >= 0.95 * 120 / CHUNK.segment_s  # kept up with the live edge
    assert metrics.live_latency_p95_s is not None and metrics.live_latency_p95_s <= TARGET + 0.5


class _Racer(AbrAlgorithm):
    """Asks for double speed: the session holds it to its bound."""

    name = "racer"

    def choose(self, ctx: AbrContext) -> int:
        return 0

    def playback_rate(self, ctx: AbrContext, max_change: float) -> float | None:
        return 2.0


def test_the_session_clamps_an_algorithms_rate_and_prefers_it_over_its_catch_up() -> None:
    session = Session(_Racer(), SessionConfig(live_target_latency_s=TARGET))
    driver = LiveDriver(session, CHUNK)
    driver.start(JOIN_AT)
    run = driver.until(JOIN_AT + 5)
    # At the target latency the session's catch-up would play at 1x.
    assert run.rates()[0] == 1.1 and session.playback_rate == 1.1


@given(st.lists(st.floats(-1e3, 1e3), min_size=1, max_size=8))
def test_simplex_projection_gives_a_distribution(values: list[float]) -> None:
    w = project_to_simplex(values)
    assert all(x >= 0 for x in w)
    assert sum(w) == pytest.approx(1.0)
    assert project_to_simplex(w) == pytest.approx(w, abs=1e-9)  # already on it: unmoved
