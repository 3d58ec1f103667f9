"""One real playback session: the player engine through its own trace-shaped link.

The engine (the same `abr.session` as the simulator, over httpx) fetches from the edge
through a `TraceShaper` whose trace runs from the session's first connection. Media goes to
libmpv (decoded, `vo=null`) or, with `decode=False`, to a counter while the session's
real-time playout clock stands in for the decoder. Progress is reported to the API as a
player would: every few seconds and at the end, retried until the server has it.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx

from abr.manifests import ManifestError
from abr.presentation import Presentation
from abr.qoe import QoeSummary
from abr.registry import AlgorithmFactory, Profile
from abr.session import SessionMetrics
from emulator.shaper import ShapedStats, TraceShaper
from player.engine import CountingSink, PlaybackEngine
from player.mpv_sink import MpvSink
from qa.backend import Api, Manifest
from traces.trace import Trace

PROGRESS_EVERY_S = 2.0
FINAL_REPORT_DEADLINE_S = 30.0
MEDIA_TIMEOUT = httpx.Timeout(10.0, connect=5.0)


@dataclass(frozen=True)
class SessionSpec:
    index: int
    trace: Trace
    video_id: str
    abr: str


@dataclass
class Report:
    reported_at: float  # epoch seconds, the progress report's version
    offset_s: float
    acked: bool = False


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
    reports: list[Report] = field(default_factory=list)  # the last: the final position
    manifest: Manifest | None = None

    @property
    def failed(self) -> bool:
        return self.failure is not None


def via(url: str, port: int) -> str:
    """The same URL through the local port of a shaped link."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"127.0.0.1:{port}"))


async def play(
    spec: SessionSpec,
    api: Api,
    upstream: tuple[str, int],
    factory: AlgorithmFactory,
    profile: Profile,
    decode: bool,
    timeout_s: float,
    first_url: Callable[[Manifest], str] | None = None,
) -> SessionOutcome:
    """Play one session to its end (or failure, or `timeout_s`); never raises for the
    session's own problems: they are the outcome."""
    shaper = TraceShaper(spec.trace, *upstream, per_connection=False)
    port = await shaper.start()
    sink: CountingSink | MpvSink = await asyncio.to_thread(MpvSink) if decode else CountingSink()
    started = time.monotonic()
    engine: PlaybackEngine | None = None
    result = None
    failure: str | None = None
    reports: list[Report] = []
    manifest: Manifest | None = None
    ttff = math.nan
    try:
        manifest = await api.manifest(spec.video_id)
        url = via(first_url(manifest) if first_url else manifest.url, port)

        async def refresh() -> str:
            # A player asks the API again when its signed URL has expired.
            return via((await api.manifest(spec.video_id)).url, port)

        async with httpx.AsyncClient(timeout=MEDIA_TIMEOUT) as client:
            engine = PlaybackEngine(
                url, factory(), sink, client, profile.session, refresh_url=refresh
            )
            done = asyncio.Event()
            current = engine
            reporter = asyncio.create_task(
                _report_progress(api, manifest, lambda: current.session.position_s, done, reports)
            )
            try:
                result = await asyncio.wait_for(engine.run(), timeout_s)
                failure = result.failure
            except TimeoutError:
                failure = f"session did not finish within {timeout_s:.0f} s"
            except ManifestError as exc:
                failure = str(exc)
            finally:
                done.set()
                await reporter
        if result is not None and result.failure is None:
            if isinstance(sink, MpvSink):
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
        decoded=decode,
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
        reports=reports,
        manifest=manifest,
    )


def _total(stats: list[ShapedStats]) -> ShapedStats:
    return ShapedStats(
        bytes_sent=sum(s.bytes_sent for s in stats),
        seconds=sum(s.seconds for s in stats),
        requested_bits=sum(s.requested_bits for s in stats),
    )


async def _report_progress(
    api: Api,
    manifest: Manifest,
    position: Callable[[], float],
    done: asyncio.Event,
    reports: list[Report],
) -> None:
    """Report every PROGRESS_EVERY_S while playing, and the last position at the end.

    A periodic report that does not get through is retried with back-off for one period,
    then dropped: the next one replaces it (the server keeps the newest by reported_at). The
    final one is retried until it gets through or FINAL_REPORT_DEADLINE_S."""
    while not done.is_set():
        try:
            await asyncio.wait_for(done.wait(), PROGRESS_EVERY_S)
        except TimeoutError:
            await _send(api, manifest, position(), reports, PROGRESS_EVERY_S)
    await _send(api, manifest, position(), reports, FINAL_REPORT_DEADLINE_S)


async def _send(
    api: Api, manifest: Manifest, offset_s: float, reports: list[Report], give_up_s: float
) -> None:
    report = Report(time.time(), offset_s)
    reports.append(report)
    deadline = time.monotonic() + give_up_s
    backoff = 0.25
    while True:
        try:
            await asyncio.wait_for(
                api.report_progress(manifest, offset_s, report.reported_at),
                max(deadline - time.monotonic(), 0.1),
            )
            report.acked = True
            return
        except (httpx.HTTPError, TimeoutError):
            if time.monotonic() + backoff > deadline:
                return
        await asyncio.sleep(backoff)
        backoff = min(backoff * 2, 4.0)
