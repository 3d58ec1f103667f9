"""One real playback session: the player engine through its own trace-shaped link.

The engine (the same `abr.session` as the simulator, over httpx) fetches from the edge
through a `TraceShaper` whose trace runs from the session's first connection. Media goes to
libmpv (decoded, `vo=null`) or, with `decode=False`, to a counter while the session's
real-time playout clock stands in for the decoder. A live channel's session joins at the live
edge (the engine's live mode) and stops after `SessionSpec.live_seconds`; channels have no
progress, so it reports none. A title's progress goes through the player's own
`ProgressSync`, each session with its own on-disk journal: every PROGRESS_EVERY_S and at the
end. A report the API does not answer within a period stays in the journal and goes out,
in order, before the next one; the last is retried until FINAL_REPORT_DEADLINE_S.
"""

from __future__ import annotations

import asyncio
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

import api_paths as paths
from abr.commands import Command, StartPlayback
from abr.manifests import ManifestError
from abr.presentation import Presentation
from abr.qoe import QoeSummary
from abr.registry import AlgorithmFactory, Profile
from abr.session import SessionMetrics
from emulator.shaper import ShapedStats, TraceShaper
from player.api import ApiError, BackendApi, PlaybackInfo
from player.engine import CountingSink, PlaybackEngine
from player.mpv_sink import MpvSink
from player.progress import ProgressJournal, ProgressReport, ProgressSync
from traces.trace import Trace

PROGRESS_EVERY_S = 2.0
# A report not answered within a period has failed: it stays in the journal and goes out
# before the next, as on a viewer's flaky network (the player's own time-out is 10 s).
PROGRESS_TIMEOUT_S = PROGRESS_EVERY_S
FINAL_REPORT_DEADLINE_S = 30.0
MEDIA_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class SessionSpec:
    index: int
    trace: Trace
    video_id: str
    abr: str
    live_seconds: float | None = None  # a live channel: how long to watch it


@dataclass(frozen=True)
class Delivered:
    """A progress report the server answered."""

    offset_s: float
    reported_at: float  # epoch seconds: the report's version


@dataclass
class ProgressLog:
    """What the session's ProgressSync did."""

    journal: Path
    made: list[float] = field(default_factory=list)  # reported_at of every report, in order
    delivered: list[Delivered] = field(default_factory=list)  # in the order sent
    held: set[float] = field(default_factory=set)  # reports left in the journal when made
    pending: list[ProgressReport] = field(default_factory=list)  # still there at the end

    @property
    def final_delivered(self) -> bool:
        return bool(self.made) and self.made[-1] in {d.reported_at for d in self.delivered}

    @property
    def replayed(self) -> int:
        """Reports the journal kept when they failed and sent later."""
        return sum(d.reported_at in self.held for d in self.delivered)


@dataclass
class SessionOutcome:
    spec: SessionSpec
    decoded: bool
    started_at: float  # time.monotonic() when the manifest was requested
    ended_at: float
    session_origin: float  # time.monotonic() of the session's time 0 (manifest loaded)
    summary: QoeSummary | None
    metrics: SessionMetrics | None
    presentation: Presentation | None
    ttff_s: float  # manifest request to first frame (decoded) or to playback start
    failure: str | None
    errors: list[tuple[float, str]]  # failed requests (session time, reason), each retried
    shaped: ShapedStats  # all the session's connections together
    link_opened: float | None  # time.monotonic() the shaped link's trace started
    progress: ProgressLog
    playback: PlaybackInfo | None = None  # what the API answered for the title

    @property
    def failed(self) -> bool:
        return self.failure is not None


def via(url: str, port: int) -> str:
    """The same URL through the local port of a shaped link."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


@dataclass(frozen=True)
class PlayerSetup:
    """What every session of a run plays with, whatever its trace and wherever it runs."""

    factory: AlgorithmFactory
    profile: Profile
    decode: bool  # libmpv decodes the media; False: a counter and the playout clock
    timeout_s: float
    journal_dir: Path  # session N's progress journal: journal_dir/session-N/


async def play(
    spec: SessionSpec,
    api: BackendApi,
    upstream: tuple[str, int],
    setup: PlayerSetup,
    first_url: Callable[[PlaybackInfo], str] | None = None,
    on_playing: Callable[[], None] | None = None,
) -> SessionOutcome:
    """Play one session to its end (or failure, or `setup.timeout_s`); never raises for the
    session's own problems: they are the outcome. Its progress journal is
    `setup.journal_dir/session-N/pending-progress.jsonl`. `on_playing` is called once
    playback has started."""
    shaper = TraceShaper(spec.trace, *upstream, per_connection=False)
    port = await shaper.start()
    sink: CountingSink | MpvSink = (
        await asyncio.to_thread(MpvSink) if setup.decode else CountingSink()
    )
    started = time.monotonic()
    engine: PlaybackEngine | None = None
    result = None
    failure: str | None = None
    progress = ProgressLog(setup.journal_dir / f"session-{spec.index}" / "pending-progress.jsonl")
    # A journal left by an earlier run in the same folder holds that run's sessions' reports.
    progress.journal.unlink(missing_ok=True)
    playback: PlaybackInfo | None = None
    ttff = math.nan
    try:
        playback = await api.playback_info(spec.video_id)
        url = via(first_url(playback) if first_url else playback.dash_url, port)

        async def refresh() -> str:
            # A player asks the API again when its signed URL has expired.
            return via((await api.playback_info(spec.video_id)).dash_url, port)

        async with httpx.AsyncClient(timeout=MEDIA_TIMEOUT) as client:

            def observe(command: Command) -> None:
                if on_playing is not None and isinstance(command, StartPlayback):
                    on_playing()

            engine = PlaybackEngine(
                url,
                setup.factory(),
                sink,
                client,
                setup.profile.session,
                on_command=observe,
                refresh_url=refresh,
                # A live presentation without UTCTiming reads the backend's time, as the
                # player does.
                time_url=f"{api.api_url}{paths.TIME}",
            )
            done = asyncio.Event()
            current = engine
            reporter = (
                None
                if spec.live_seconds is not None
                else asyncio.create_task(
                    _report_progress(
                        api,
                        playback,
                        f"qa-{os.getpid()}-{spec.index}",
                        lambda: current.session.position_s,
                        done,
                        progress,
                    )
                )
            )
            try:
                result = await asyncio.wait_for(engine.run(spec.live_seconds), setup.timeout_s)
                failure = result.failure
            except TimeoutError:
                failure = f"session did not finish within {setup.timeout_s:.0f} s"
            except ManifestError as exc:
                failure = str(exc)
            finally:
                done.set()
                if reporter is not None:
                    await reporter
        if result is not None and result.failure is None:
            if isinstance(sink, MpvSink):
                if spec.live_seconds is None:  # a live session stops with media still buffered
                    await asyncio.to_thread(sink.wait_until_played, 30.0)
                if sink.first_frame_at is not None:
                    ttff = sink.first_frame_at - started
            else:
                ttff = engine.started_at - started + result.summary.startup_s
    except Exception as exc:  # the backend's API failing mid-run is this session's failure
        failure = failure or f"{exc.__class__.__name__}: {exc}"
    finally:
        if isinstance(sink, MpvSink):
            await asyncio.to_thread(sink.close)
        await shaper.close()
    ended = time.monotonic()
    return SessionOutcome(
        spec=spec,
        decoded=setup.decode,
        started_at=started,
        ended_at=ended,
        session_origin=engine.started_at if engine is not None else started,
        summary=result.summary if result is not None else None,
        metrics=result.metrics if result is not None else None,
        presentation=result.presentation if result is not None else None,
        ttff_s=ttff,
        failure=failure,
        errors=list(engine.failures) if engine is not None else [],
        shaped=_total(shaper.stats),
        link_opened=shaper.link_opened,
        progress=progress,
        playback=playback,
    )


def _total(stats: list[ShapedStats]) -> ShapedStats:
    return ShapedStats(
        bytes_sent=sum(s.bytes_sent for s in stats),
        seconds=sum(s.seconds for s in stats),
        requested_bits=sum(s.requested_bits for s in stats),
    )


async def _report_progress(
    api: BackendApi,
    playback: PlaybackInfo,
    device_id: str,
    position: Callable[[], float],
    done: asyncio.Event,
    log: ProgressLog,
) -> None:
    """Report through ProgressSync every PROGRESS_EVERY_S while playing and the last
    position at the end; retry the journal until it is empty or FINAL_REPORT_DEADLINE_S."""

    async def send(body: dict[str, Any]) -> None:
        try:
            await asyncio.wait_for(api.report_progress(body), PROGRESS_TIMEOUT_S)
        except TimeoutError as exc:
            raise ApiError(f"progress report: no answer within {PROGRESS_TIMEOUT_S:g} s") from exc
        log.delivered.append(Delivered(float(body["offset_seconds"]), float(body["reported_at"])))

    def stamp() -> float:
        log.made.append(time.time())
        return log.made[-1]

    sync = ProgressSync(ProgressJournal(log.journal), send, clock=stamp)

    async def report(reason: str) -> bool:
        if await sync.report(playback.video_id, playback.session_id, position(), device_id, reason):
            return True
        log.held.update(r.reported_at for r in sync.journal.pending())
        return False

    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), PROGRESS_EVERY_S)
        except TimeoutError:
            await report("periodic")
    flushed = await report("stop")
    deadline = time.monotonic() + FINAL_REPORT_DEADLINE_S
    backoff = 0.25
    while not flushed and time.monotonic() + backoff < deadline:
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 4.0)
        flushed = await sync.flush()
    log.pending = sync.journal.pending()
