"""Bad live input as a viewer meets it: a playlist that stops updating, the encoder gone for a
while or for good, a newest segment that 404s for a moment, a reload that goes backwards. The
session keeps playing where it can, stalls with a reason it can say, and ends only with one
(driver: `live_channel`, virtual clock)."""

from __future__ import annotations

import itertools
import math

import pytest
from live_channel import Channel, LiveDriver, Run

from abr.commands import FlushBuffer, RefreshManifest, SessionFailed, StallStarted
from abr.config import SessionConfig
from abr.registry import create
from abr.session import Phase, Session

JOIN_AT = 60.0


def live_session(**config: object) -> Session:
    return Session(create("bba"), SessionConfig(**config))  # type: ignore[arg-type]


def failure(run: Run) -> tuple[float, str] | None:
    return next(((t, c.reason) for t, c in run.commands if isinstance(c, SessionFailed)), None)


def commands_between(run: Run, kind: type, start: float, end: float) -> list[float]:
    return [t for t, c in run.commands if isinstance(c, kind) and start <= t <= end]


def test_a_playlist_that_stops_updating_ends_with_its_age_and_no_replay() -> None:
    frozen = JOIN_AT + 20
    session = live_session()
    driver = LiveDriver(session, Channel(segment_s=2.0, hls=True, gone=(frozen, math.inf)))
    driver.start(JOIN_AT)
    driver.until(frozen + 30)
    assert session.phase is Phase.STALLED  # played out what it had ...
    trouble = session.live_trouble
    assert trouble is not None and "the live playlist stopped updating (last change" in trouble
    run = driver.until(frozen + 400)
    ended = failure(run)
    assert ended is not None
    at, reason = ended
    # ... and ends 120 s (the default) after the last segment came, saying why.
    last_done = session.metrics().downloads[-1].done_at
    assert at == pytest.approx(last_done + 120, abs=0.5)
    assert reason.startswith("the live stream stopped: nothing new to play for 120 s")
    assert "the live playlist stopped updating (last change" in reason
    # No flush-and-replay of the last segment while waiting (a resync would gain nothing).
    assert commands_between(run, FlushBuffer, frozen, at) == []
    # RFC 8216 6.3.4: an unchanged playlist is reloaded every half target duration.
    reloads = commands_between(run, RefreshManifest, frozen + 10, at)
    gaps = [b - a for a, b in itertools.pairwise(reloads)]
    assert gaps and all(1.0 <= g <= 1.0 + 2 * driver.rtt_s + 1e-6 for g in gaps), gaps


@pytest.mark.parametrize("hls", [True, False], ids=["hls", "dash"])
def test_the_encoder_gone_for_30_s_stalls_with_a_reason_then_plays_on_live(hls: bool) -> None:
    gone = (JOIN_AT + 20, JOIN_AT + 50)
    session = live_session()
    driver = LiveDriver(session, Channel(segment_s=1.0, hls=hls, gone=gone))
    driver.start(JOIN_AT)
    driver.until(gone[0] + 15)
    assert session.phase in (Phase.STALLED, Phase.STARTING)
    trouble = session.live_trouble
    expected = "the live playlist stopped updating" if hls else "HTTP 404"
    assert trouble is not None and expected in trouble, trouble
    run = driver.until(JOIN_AT + 150)
    assert failure(run) is None
    assert session.phase is Phase.PLAYING and session.live_trouble is None
    assert commands_between(run, StallStarted, gone[0], gone[1])
    # Back at the target latency (3 segments) soon after the segments return (HLS without
    # date-times: to within a segment, the edge being known only at each reload).
    settled = run.latency_between(gone[1] + 20, JOIN_AT + 150)
    tolerance = 1.0 if hls else 0.5
    assert settled and all(abs(v - 3.0) <= tolerance for v in settled), (min(settled), max(settled))


@pytest.mark.parametrize("hls", [True, False], ids=["hls", "dash"])
def test_the_encoder_gone_past_the_limit_ends_the_session_with_the_reason(hls: bool) -> None:
    session = live_session(live_gone_after_s=30.0)
    driver = LiveDriver(session, Channel(segment_s=1.0, hls=hls, gone=(JOIN_AT + 20, math.inf)))
    driver.start(JOIN_AT)
    run = driver.until(JOIN_AT + 200)
    ended = failure(run)
    assert ended is not None
    at, reason = ended
    assert at < JOIN_AT + 20 + 30 + 5
    assert reason.startswith("the live stream stopped: nothing new to play for 30 s")
    assert ("playlist stopped updating" if hls else "HTTP 404 for r") in reason, reason
    assert session.metrics().failed_reason == reason


def test_a_newest_segment_that_404s_for_a_moment_is_retried_not_failed() -> None:
    # Fetched as soon as listed (target latency one segment), every segment 404s for 0.6 s
    # after its availability time: a late origin. Far more failures than max_retries allows.
    session = live_session(live_target_latency_s=1.0, max_retries=1)
    driver = LiveDriver(session, Channel(segment_s=1.0, late_s=0.6))
    driver.start(JOIN_AT)
    run = driver.until(JOIN_AT + 60)
    assert failure(run) is None
    numbers = run.fetched
    assert len(numbers) - len(set(numbers)) >= 20  # many retries ...
    assert sorted(set(numbers)) == list(range(numbers[0], numbers[-1] + 1))  # ... none skipped
    assert session.phase is Phase.PLAYING and session.live_trouble is None


def test_a_reload_that_goes_backwards_is_ignored_while_it_lasts_a_moment() -> None:
    session = live_session()
    channel = Channel(segment_s=2.0, hls=True, backwards=(JOIN_AT + 30, JOIN_AT + 32))
    driver = LiveDriver(session, channel)
    driver.start(JOIN_AT)
    driver.until(JOIN_AT + 31.5)
    trouble = session.live_trouble
    assert trouble is not None and "goes backwards" in trouble
    run = driver.until(JOIN_AT + 120)
    assert failure(run) is None
    assert session.metrics().stall_count == 0
    assert session.live_trouble is None


def test_a_reload_that_keeps_going_backwards_ends_naming_the_sequence_numbers() -> None:
    session = live_session(live_gone_after_s=40.0)
    channel = Channel(segment_s=2.0, hls=True, backwards=(JOIN_AT + 30, math.inf))
    driver = LiveDriver(session, channel)
    driver.start(JOIN_AT)
    run = driver.until(JOIN_AT + 300)
    ended = failure(run)
    assert ended is not None
    at, reason = ended
    assert at < JOIN_AT + 30 + 40 + 10
    assert "the reload goes backwards" in reason and "media sequence number" in reason, reason


def test_live_gone_after_s_is_bounds_checked() -> None:
    for bad in (0.0, -1.0, math.nan):
        with pytest.raises(ValueError, match="live_gone_after_s must be a positive number"):
            SessionConfig(live_gone_after_s=bad)
    assert SessionConfig(live_gone_after_s=math.inf).live_gone_after_s == math.inf
