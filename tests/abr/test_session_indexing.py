"""An unindexed (DASH SegmentBase) presentation: the session asks for every rendition's sidx,
starts once they are in, retries failures like segments and fails clearly on a bad box."""

from __future__ import annotations

import struct

import pytest

from abr.commands import Command, FetchIndex, FetchSegment, SessionFailed, StartPlayback
from abr.config import SessionConfig
from abr.errors import SessionError
from abr.events import (
    IndexLoaded,
    ManifestLoaded,
    Seek,
    SegmentDone,
    SegmentFailed,
    Tick,
)
from abr.presentation import Presentation, Rendition, SegmentRef
from abr.registry import create
from abr.session import Phase, Session
from simulator.errors import SimulationError
from simulator.run import Simulation
from traces import synthetic

URL = "https://cdn.test/title/v{}.mp4"
SIZES = ((40_000, 50_000, 45_000), (90_000, 100_000, 95_000))  # bytes per 2 s subsegment


def sidx(sizes: tuple[int, ...], timescale: int = 1000) -> bytes:
    body = struct.pack(">B3xIIIIHH", 0, 1, timescale, 0, 0, 0, len(sizes))
    for size in sizes:
        body += struct.pack(">III", size, 2 * timescale, 0x9000_0000)
    return struct.pack(">I4s", len(body) + 8, b"sidx") + body


BOXES = [sidx(s) for s in SIZES]
UNINDEXED = Presentation(
    tuple(
        Rendition(
            f"v{i}",
            (i + 1) * 200_000,
            (),
            init=SegmentRef(URL.format(i), 8000.0, False, (0, 999)),
            index=SegmentRef(URL.format(i), 8.0 * len(BOXES[i]), False, (1000, 999 + len(box))),
        )
        for i, box in enumerate(BOXES)
    ),
    (),
    source="https://cdn.test/title/manifest.mpd",
)


def of(kind: type, commands: list[Command]) -> list:
    return [c for c in commands if isinstance(c, kind)]


def loaded() -> tuple[Session, list[FetchIndex]]:
    session = Session(create("throughput"), SessionConfig(max_retries=2))
    fetches = of(FetchIndex, session.handle(ManifestLoaded(0.0, UNINDEXED)))
    assert session.phase is Phase.INDEXING
    return session, fetches


def test_every_index_is_asked_for_then_playback_starts_on_the_indexed_segments() -> None:
    session, fetches = loaded()
    assert [(f.rendition_index, f.ref.byte_range) for f in fetches] == [
        (0, (1000, 999 + len(BOXES[0]))),
        (1, (1000, 999 + len(BOXES[1]))),
    ]
    assert session.next_wakeup() is None  # nothing to do until the driver answers
    assert session.handle(IndexLoaded(0.05, fetches[1].request_id, BOXES[1])) == []
    (fetch,) = of(FetchSegment, session.handle(IndexLoaded(0.1, fetches[0].request_id, BOXES[0])))
    assert session.phase is Phase.STARTING
    assert session.context.presentation.segment_durations_s == (2.0, 2.0, 2.0)
    # The first subsegment of the lowest rung: just after its sidx box, exactly 40,000 bytes.
    first = 1000 + len(BOXES[0])
    assert fetch.segment.byte_range == (first, first + 40_000 - 1)
    assert fetch.init is not None and fetch.init.byte_range == (0, 999)
    assert fetch.request_id not in {f.request_id for f in fetches}
    commands = session.handle(SegmentDone(0.5, fetch.request_id, 40_000.0, 0.2))
    assert of(StartPlayback, commands)
    assert session.metrics().startup_s == pytest.approx(0.5)  # the indexing counts


def test_a_failed_index_is_retried_after_a_back_off_then_gives_up_naming_the_rendition() -> None:
    session, fetches = loaded()
    session.handle(IndexLoaded(0.1, fetches[0].request_id, BOXES[0]))
    failing = fetches[1]
    for attempt in range(2):
        assert session.handle(SegmentFailed(1.0, failing.request_id, "HTTP 503")) == []
        wake = session.next_wakeup()
        assert wake == pytest.approx(1.0 + 0.5 * 2**attempt)
        assert session.handle(Tick(wake - 0.01)) == []
        (failing,) = of(FetchIndex, session.handle(Tick(wake)))
        assert failing.rendition_index == 1
    (failed,) = of(
        SessionFailed, session.handle(SegmentFailed(9.0, failing.request_id, "HTTP 503"))
    )
    assert failed.reason == "index of rendition 1 ('v1'): HTTP 503"
    assert session.phase is Phase.FAILED
    assert session.metrics().failed_reason == failed.reason


def test_a_refused_index_or_a_bad_box_fails_at_once() -> None:
    session, fetches = loaded()
    (failed,) = of(
        SessionFailed, session.handle(SegmentFailed(0.1, fetches[0].request_id, "HTTP 404", False))
    )
    assert failed.reason == "index of rendition 0 ('v0'): HTTP 404"
    session, fetches = loaded()
    session.handle(IndexLoaded(0.1, fetches[0].request_id, BOXES[0]))
    (failed,) = of(
        SessionFailed, session.handle(IndexLoaded(0.2, fetches[1].request_id, BOXES[1][:-3]))
    )
    assert "rendition 'v1': segment index: box declares" in failed.reason


def test_viewer_events_while_indexing_apply_once_it_is_built() -> None:
    session, fetches = loaded()
    session.handle(Seek(0.01, 3.0))  # before anything is fetched: start there instead
    session.handle(IndexLoaded(0.1, fetches[0].request_id, BOXES[0]))
    (fetch,) = of(FetchSegment, session.handle(IndexLoaded(0.2, fetches[1].request_id, BOXES[1])))
    assert fetch.segment_index == 1 and session.position_s == 3.0


def test_index_answers_without_a_question_are_refused() -> None:
    session = Session(create("throughput"))
    with pytest.raises(SessionError, match="no index was asked for"):
        session.handle(IndexLoaded(0.0, 1, BOXES[0]))


def test_the_simulator_refuses_an_unindexed_presentation_clearly() -> None:
    trace = synthetic.constant(2000.0, 60.0)
    with pytest.raises(SimulationError, match=r"segment indexes .* are not loaded"):
        Simulation(trace, UNINDEXED, create("throughput"))
