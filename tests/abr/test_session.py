"""The session state machine, driven by hand: what a player would see."""

from __future__ import annotations

import pytest

from abr.algorithm import AbrAlgorithm
from abr.commands import (
    AbortRequest,
    FetchSegment,
    FlushBuffer,
    SessionFailed,
    StallEnded,
    StallStarted,
    StartPlayback,
)
from abr.config import SessionConfig
from abr.context import AbrContext
from abr.errors import SessionError
from abr.events import (
    BytesReceived,
    ManifestLoaded,
    Pause,
    QualityCapChanged,
    Resume,
    Seek,
    SegmentDone,
    SegmentFailed,
    Tick,
)
from abr.presentation import Presentation
from abr.session import Phase, Session


class Fixed(AbrAlgorithm):
    def __init__(self, rendition: int) -> None:
        self.rendition = rendition

    def choose(self, ctx: AbrContext) -> int:
        return self.rendition


def fetches(commands: list[object]) -> list[FetchSegment]:
    return [c for c in commands if isinstance(c, FetchSegment)]


def complete(
    session: Session, fetch: FetchSegment, now: float, latency: float = 0.01
) -> list[object]:
    return list(
        session.handle(
            SegmentDone(now, fetch.request_id, fetch.segment.size_bits / 8, now - latency)
        )
    )


def start(
    video: Presentation, algorithm: AbrAlgorithm | None = None, **cfg: object
) -> tuple[Session, FetchSegment]:
    session = Session(algorithm or Fixed(5), SessionConfig(**cfg))  # type: ignore[arg-type]
    (fetch,) = fetches(session.handle(ManifestLoaded(0.0, video)))
    return session, fetch


def test_first_segment_is_lowest_and_playback_starts_after_it(video: Presentation) -> None:
    session, fetch = start(video)
    assert (fetch.segment_index, fetch.rendition_index) == (0, 0)
    out = complete(session, fetch, 0.3)
    assert any(isinstance(c, StartPlayback) for c in out)
    assert session.phase is Phase.PLAYING
    (second,) = fetches(out)
    assert (second.segment_index, second.rendition_index) == (1, 5)  # then the algorithm decides
    assert session.metrics().startup_s == pytest.approx(0.3)


def test_a_player_reporting_bytes_on_its_own_clock_gets_late_downloads_abandoned(
    video: Presentation,
) -> None:
    # A player reports progress every 0.1 s as bytes come, and wakes the session with a Tick
    # at the check times it asks for: the Tick always comes first. The check must still run.
    session, fetch = start(video)
    (fetch,) = fetches(complete(session, fetch, 0.3))  # playing, 4 s buffered
    first_byte = 0.35
    rate_bytes = fetch.segment.size_bits / 8 / 40.0  # the segment would take 40 s
    report, now, aborted = first_byte + 0.03, 0.3, None
    while now < 4.3 and aborted is None:
        wake = session.next_wakeup()
        if wake is not None and wake <= report:
            now, out = wake, session.handle(Tick(wake))
        else:
            now = report
            received = rate_bytes * (now - first_byte)
            out = session.handle(BytesReceived(now, fetch.request_id, received, first_byte))
            report += 0.1
        aborted = next((c for c in out if isinstance(c, AbortRequest)), None)
    assert aborted is not None and aborted.request_id == fetch.request_id
    assert now < 4.3 - 0.5  # with time left to fetch a lower rendition


def test_estimate_start_lets_the_algorithm_pick_the_first_segment(video: Presentation) -> None:
    _, fetch = start(video, first_rendition="estimate")
    assert fetch.rendition_index == 5


def test_look_ahead_waits_for_room_then_requests(video: Presentation) -> None:
    session, fetch = start(video, buffer_target_segments=3)
    now = 0.1
    for _ in range(3):
        out = complete(session, fetch, now)
        now += 0.1
        if fetches(out):
            (fetch,) = fetches(out)
    assert not fetches(out)  # three 4 s segments fill the 12 s target
    wake = session.next_wakeup()
    assert wake is not None and session.buffer_s + 4.0 - (wake - now + 0.1) == pytest.approx(
        12.0, abs=0.01
    )
    (later,) = fetches(session.handle(Tick(wake)))
    assert later.segment_index == 3
    assert session.buffer_s == pytest.approx(8.0, abs=0.01)


def test_stall_is_detected_at_the_moment_the_buffer_ran_dry(video: Presentation) -> None:
    session, fetch = start(video)
    (fetch,) = fetches(complete(session, fetch, 1.0))  # playing from t=1 with 4 s buffered
    out = complete(session, fetch, 9.0)  # arrives 4 s after the buffer ran dry at t=5
    stalls = [c for c in out if isinstance(c, StallStarted)]
    ended = [c for c in out if isinstance(c, StallEnded)]
    assert stalls and stalls[0].at == pytest.approx(5.0)
    assert ended and ended[0].duration_s == pytest.approx(4.0)
    m = session.metrics()
    assert (m.stall_count, m.stalled_s) == (1, pytest.approx(4.0))


def test_pause_freezes_the_buffer(video: Presentation) -> None:
    session, fetch = start(video, buffer_target_segments=1)
    complete(session, fetch, 1.0)
    session.handle(Pause(1.5))
    session.handle(Tick(30.0))
    assert session.buffer_s == pytest.approx(3.5)
    assert session.phase is Phase.PLAYING
    session.handle(Resume(30.0))
    session.handle(Tick(31.0))
    assert session.buffer_s == pytest.approx(2.5)


def test_seek_outside_the_buffer_flushes_and_restarts_there(video: Presentation) -> None:
    session, fetch = start(video)
    (fetch,) = fetches(complete(session, fetch, 0.5))
    out = session.handle(Seek(1.0, 101.0))
    assert AbortRequest(fetch.request_id, "seek") in out
    assert FlushBuffer(101.0) in out
    (restart,) = fetches(out)
    assert restart.segment_index == 25  # 101 s falls in segment 25 (100-104 s)
    assert session.phase is Phase.STARTING
    out = complete(session, restart, 1.4)
    assert any(isinstance(c, StartPlayback) and c.position_s == 101.0 for c in out)
    assert session.buffer_s == pytest.approx(3.0)


def test_failed_segment_is_retried_lower_after_back_off_then_gives_up(video: Presentation) -> None:
    session, fetch = start(video, max_retries=2, retry_backoff_s=0.5)
    (fetch,) = fetches(complete(session, fetch, 0.2))
    assert fetch.rendition_index == 5
    out = session.handle(SegmentFailed(0.3, fetch.request_id, "HTTP 503"))
    assert not fetches(out)
    assert session.next_wakeup() == pytest.approx(0.8)
    (retry,) = fetches(session.handle(Tick(0.8)))
    assert (retry.segment_index, retry.rendition_index) == (1, 4)
    assert retry.replaces_request_id == fetch.request_id
    session.handle(SegmentFailed(0.9, retry.request_id, "HTTP 503"))
    (again,) = fetches(session.handle(Tick(1.9)))
    out = session.handle(SegmentFailed(2.0, again.request_id, "HTTP 503"))
    failed = [c for c in out if isinstance(c, SessionFailed)]
    assert failed and "segment 1" in failed[0].reason and "HTTP 503" in failed[0].reason
    assert session.phase is Phase.FAILED


def test_quality_cap_limits_every_choice(video: Presentation) -> None:
    session, fetch = start(video, Fixed(9))
    session.handle(QualityCapChanged(0.1, max_bandwidth_bps=1_000_000))
    (fetch,) = fetches(complete(session, fetch, 0.2))
    assert video.renditions[fetch.rendition_index].bandwidth_bps <= 1_000_000


def test_time_must_not_go_backwards(video: Presentation) -> None:
    session, fetch = start(video)
    complete(session, fetch, 5.0)
    with pytest.raises(SessionError, match="backwards"):
        session.handle(Tick(1.0))


def test_events_before_the_manifest_are_refused() -> None:
    with pytest.raises(SessionError, match="before ManifestLoaded"):
        Session(Fixed(0)).handle(Tick(0.0))


def test_a_later_period_brings_its_own_init_before_its_first_segment() -> None:
    from abr.manifests import parse_dash

    mpd = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S">
      <Period id="ad" duration="PT4S"><AdaptationSet contentType="video">
        <SegmentTemplate timescale="1" duration="2" media="ad-$Number$.m4s" initialization="ad-init.m4s"/>
        <Representation id="v" bandwidth="300000"/></AdaptationSet></Period>
      <Period id="show"><AdaptationSet contentType="video">
        <SegmentTemplate timescale="1" duration="2" media="show-$Number$.m4s" initialization="show-init.m4s"/>
        <Representation id="v" bandwidth="300000"/></AdaptationSet></Period></MPD>"""
    session, fetch = start(parse_dash(mpd, "http://cdn.test/t/m.mpd"), Fixed(0))
    seen = []
    for now in (1.0, 2.0, 3.0, 4.0):
        assert fetch.init is not None and fetch.segment.url is not None
        seen.append((fetch.init.url.rsplit("/", 1)[1], fetch.segment.url.rsplit("/", 1)[1]))
        out = fetches(complete(session, fetch, now))
        if not out:
            break
        fetch = out[0]
    assert seen == [
        ("ad-init.m4s", "ad-1.m4s"),
        ("ad-init.m4s", "ad-2.m4s"),
        ("show-init.m4s", "show-1.m4s"),
        ("show-init.m4s", "show-2.m4s"),
    ]
