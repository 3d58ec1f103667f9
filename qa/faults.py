"""Fault injection: a seeded plan, a small HTTP fault proxy per session, process faults.

Per-session faults act in a `FaultProxy` between the session's shaped link and the edge:
a share of segment requests answered 503, one segment's body cut short, one segment's first
byte held back; or the session's first manifest URL is signed to expire mid-session (the
engine must fetch a new one from the API). Process faults act on the real backend started
by qa: the origin stopped (SIGSTOP) for a while, the edge's nginx workers killed (the
master starts new ones; open connections are reset). Every fault is logged when it acts.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import psutil

from backend_stub.signing import signed_path
from emulator.proxy_server import ProxyServer
from player.api import BackendApi, PlaybackInfo
from qa.backend import ManagedBackend
from qa.errors import QaInputError
from qa.session import PlayerSetup, SessionOutcome, SessionSpec, play

SESSION_FAULTS = ("segment_5xx", "truncated_segment", "slow_first_byte", "expired_url")
PROCESS_FAULTS = ("origin_down", "edge_restart")
ALL_FAULTS = SESSION_FAULTS + PROCESS_FAULTS

SHARE_5XX = 0.10
SLOW_FIRST_BYTE_S = 2.0
ORIGIN_DOWN_S = 5.0
STALL_WINDOW_S = 10.0  # stalls this long after a fault (or its end) are charged to it
MEDIA_SUFFIXES = (".m4s", ".ts", ".mp4", ".m4v", ".m4a")


@dataclass(frozen=True)
class Fault:
    kind: str
    session: int | None  # None: a process fault, every session in flight sees it
    at_s: float  # process faults: after the run starts; expired_url: after the session's
    segment: int = 0  # truncated_segment / slow_first_byte: the n-th segment request
    seed: int = 0  # segment_5xx: its own random stream


@dataclass
class FaultEvent:
    """A fault as it happened: when (time.monotonic()) and what it did."""

    kind: str
    session: int | None
    started: float
    ended: float
    detail: str


@dataclass
class FaultLog:
    events: list[FaultEvent] = field(default_factory=list)

    def add(
        self, kind: str, session: int | None, started: float, ended: float, detail: str
    ) -> None:
        self.events.append(FaultEvent(kind, session, started, ended, detail))

    def kinds_for(self, outcome: SessionOutcome) -> list[str]:
        """The faults that acted on a session: its own, and process faults while it played."""
        return list(
            dict.fromkeys(
                e.kind
                for e in sorted(self.events, key=lambda e: e.started)
                if e.session == outcome.spec.index
                or (
                    e.session is None
                    and e.started <= outcome.ended_at
                    and e.ended >= outcome.started_at
                )
            )
        )


def parse_kinds(text: str) -> tuple[str, ...]:
    if text == "all":
        return ALL_FAULTS
    kinds = tuple(k.strip() for k in text.split(",") if k.strip())
    unknown = [k for k in kinds if k not in ALL_FAULTS]
    if unknown or not kinds:
        raise QaInputError(
            f"--faults {text!r}: unknown fault {', '.join(unknown) or '(none)'} "
            f"(known: all, {', '.join(ALL_FAULTS)})"
        )
    return kinds


def plan_faults(
    kinds: Sequence[str], sessions: int, clip_s: float, segments: int, seed: int
) -> list[Fault]:
    """Each session fault on one session (spread round-robin from a seeded start), each
    process fault once, early enough that the first sessions are still playing."""
    rng = random.Random(seed)
    first = rng.randrange(sessions)
    faults = []
    for k, kind in enumerate(s for s in SESSION_FAULTS if s in kinds):
        session = (first + k) % sessions
        # The signed URL expires early: a short clip is fetched well ahead of playback, and
        # the expiry must fall before the session's last segment request.
        share = rng.uniform(0.15, 0.3) if kind == "expired_url" else rng.uniform(0.25, 0.5)
        faults.append(
            Fault(
                kind,
                session,
                at_s=share * clip_s,
                segment=rng.randrange(1, max(segments, 2)),
                seed=rng.randrange(2**31),
            )
        )
    for kind in (p for p in PROCESS_FAULTS if p in kinds):
        faults.append(Fault(kind, None, at_s=rng.uniform(0.2, 0.5) * clip_s))
    return faults


def is_segment(path: str) -> bool:
    name = path.split("?", 1)[0].rsplit("/", 1)[-1]
    return name.endswith(MEDIA_SUFFIXES) and not name.startswith("init")


class FaultProxy(ProxyServer):
    """HTTP/1.1 relay in front of the edge for one session, acting out its faults."""

    def __init__(self, upstream: tuple[str, int], faults: Sequence[Fault], log: FaultLog) -> None:
        super().__init__()
        self.upstream = upstream
        self.log = log
        by_kind = {f.kind: f for f in faults}
        self._5xx = by_kind.get("segment_5xx")
        self._5xx_rng = random.Random(self._5xx.seed if self._5xx else 0)
        self._truncate = by_kind.get("truncated_segment")
        self._slow = by_kind.get("slow_first_byte")
        self._segments_seen = 0

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        try:
            up_r, up_w = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_w.close()
            return
        truncate: asyncio.Queue[bool] = asyncio.Queue()  # one entry per forwarded request
        down = asyncio.create_task(self._responses(up_r, client_w, truncate))
        try:
            await self._requests(client_r, client_w, up_w, truncate)
        except (OSError, asyncio.IncompleteReadError):
            pass  # the client went away
        except asyncio.CancelledError:
            pass  # close(): ends normally, see TraceShaper._handle
        finally:
            down.cancel()
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await down
            client_w.close()
            up_w.close()

    async def _requests(
        self,
        client_r: asyncio.StreamReader,
        client_w: asyncio.StreamWriter,
        up_w: asyncio.StreamWriter,
        truncate: asyncio.Queue[bool],
    ) -> None:
        while True:
            head = await client_r.readuntil(b"\r\n\r\n")  # GETs: no body follows
            path = head.split(b" ", 2)[1].decode("latin-1")
            cut = False
            if is_segment(path):
                self._segments_seen += 1
                n = self._segments_seen
                now = time.monotonic()
                if self._5xx is not None and self._5xx_rng.random() < SHARE_5XX:
                    self.log.add(
                        "segment_5xx", self._5xx.session, now, now, f"503 for {_short(path)}"
                    )
                    client_w.write(
                        b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                        b"Connection: close\r\n\r\n"
                    )
                    await client_w.drain()
                    return
                if self._slow is not None and n == self._slow.segment:
                    await asyncio.sleep(SLOW_FIRST_BYTE_S)
                    self.log.add(
                        "slow_first_byte",
                        self._slow.session,
                        now,
                        time.monotonic(),
                        f"{SLOW_FIRST_BYTE_S:g} s before {_short(path)} went upstream",
                    )
                if self._truncate is not None and n == self._truncate.segment:
                    cut = True
                    self.log.add(
                        "truncated_segment",
                        self._truncate.session,
                        now,
                        now,
                        f"half of {_short(path)}",
                    )
            await truncate.put(cut)
            up_w.write(head)
            await up_w.drain()

    async def _responses(
        self,
        up_r: asyncio.StreamReader,
        client_w: asyncio.StreamWriter,
        truncate: asyncio.Queue[bool],
    ) -> None:
        try:
            await self._relay_responses(up_r, client_w, truncate)
        except (asyncio.IncompleteReadError, OSError):
            pass  # the edge closed the connection (an edge restart): the client sees it too
        finally:
            client_w.close()

    async def _relay_responses(
        self,
        up_r: asyncio.StreamReader,
        client_w: asyncio.StreamWriter,
        truncate: asyncio.Queue[bool],
    ) -> None:
        while True:
            head = await up_r.readuntil(b"\r\n\r\n")
            length = _content_length(head)
            cut = await truncate.get()
            client_w.write(head)
            if length is None:
                # A body without a length (chunked): relay the rest of the connection as is.
                while data := await up_r.read(65536):
                    client_w.write(data)
                    await client_w.drain()
                return
            if cut and length:
                # Half the announced body, then the connection ends: a truncated segment.
                client_w.write(await up_r.readexactly(length // 2))
                await client_w.drain()
                client_w.close()
                return
            if length:
                client_w.write(await up_r.readexactly(length))
            await client_w.drain()


def _content_length(head: bytes) -> int | None:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    status = head.split(b" ", 2)[1]
    return 0 if status in (b"204", b"304") else None


def _short(path: str) -> str:
    return "/".join(path.split("?", 1)[0].rsplit("/", 2)[-2:])


def short_lived_url(secret: str, playback: PlaybackInfo, ttl_s: float) -> str:
    """The manifest URL signed (with the backend's own secret) to expire in `ttl_s`: a real
    token the real edge refuses once it has expired."""
    parts = urlsplit(playback.dash_url)
    name = parts.path.rsplit("/", 1)[-1]
    path = signed_path(secret, playback.video_id, name, max(1, round(ttl_s)))
    return urlunsplit(parts._replace(path=path))


async def process_faults(
    faults: Sequence[Fault],
    backend: ManagedBackend,
    log: FaultLog,
    stop: asyncio.Event,
    playing: asyncio.Event,
) -> None:
    """Act out the process faults at their times after the first sessions began playing
    (until `stop`). Counted from the run's start instead, an origin stopped while a session was
    still being set up (libmpv, the API, the manifest) delayed its first frame by the outage,
    and whether it did depended on how busy the machine was."""
    waiting = [asyncio.ensure_future(e.wait()) for e in (playing, stop)]
    await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    for task in waiting:
        task.cancel()
    if stop.is_set():
        return
    start = time.monotonic()
    for fault in sorted(faults, key=lambda f: f.at_s):
        try:
            await asyncio.wait_for(stop.wait(), max(fault.at_s - (time.monotonic() - start), 0))
            return  # the run ended first
        except TimeoutError:
            pass
        if fault.kind == "origin_down":
            origin = backend.origin_process()
            began = time.monotonic()
            origin.send_signal(signal.SIGSTOP)
            try:
                await asyncio.sleep(ORIGIN_DOWN_S)
            finally:
                origin.send_signal(signal.SIGCONT)
            log.add(
                "origin_down",
                None,
                began,
                time.monotonic(),
                f"origin pid {origin.pid} stopped {ORIGIN_DOWN_S:g} s",
            )
        elif fault.kind == "edge_restart":
            edge = backend.edge_process()
            workers = edge.children()
            began = time.monotonic()
            for worker in workers:
                with contextlib.suppress(psutil.NoSuchProcess):
                    worker.kill()
            log.add(
                "edge_restart",
                None,
                began,
                began,
                f"killed {len(workers)} edge nginx workers; the master (pid {edge.pid}) starts new ones",
            )


def stall_charged(event: FaultEvent, outcomes: Sequence[SessionOutcome]) -> tuple[float, int]:
    """(stall seconds, sessions stalled) within STALL_WINDOW_S of the fault: its own
    session's for a session fault, every session's for a process fault."""
    window = (event.started, event.ended + STALL_WINDOW_S)
    total, hit = 0.0, 0
    for outcome in outcomes:
        if event.session is not None and outcome.spec.index != event.session:
            continue
        if outcome.metrics is None:
            continue
        stalled = 0.0
        for d in outcome.metrics.downloads:
            if d.stall_s <= 0:
                continue
            # A stall ends when the download it waited for lands (session time -> monotonic).
            end = outcome.session_origin + d.done_at
            start = end - d.stall_s
            stalled += max(0.0, min(end, window[1]) - max(start, window[0]))
        total += stalled
        hit += stalled > 0
    return total, hit


def errors_during(event: FaultEvent, outcomes: Sequence[SessionOutcome]) -> list[str]:
    """Failed requests (each retried by the engine) within the fault's window."""
    window = (event.started - 0.5, event.ended + STALL_WINDOW_S)
    found = []
    for outcome in outcomes:
        if event.session is not None and outcome.spec.index != event.session:
            continue
        for t, why in outcome.errors:
            at = outcome.session_origin + t
            if window[0] <= at <= window[1]:
                found.append(f"s{outcome.spec.index} +{at - event.started:.1f} s: {why[:80]}")
    return found


@dataclass
class SessionFaults:
    """The faults that act inside sessions (fault proxies, the expiring URL) and the log of
    what they did: all a session needs wherever it plays. Plain data, so a Dask worker gets
    the part for its sessions (`only`) and sends its log back."""

    faults: list[Fault]
    edge: tuple[str, int]
    signing_secret: str | None  # the started backend's; None: expired_url cannot act
    log: FaultLog = field(default_factory=FaultLog)

    def for_session(self, index: int) -> list[Fault]:
        return [f for f in self.faults if f.session == index]

    def only(self, sessions: Collection[int]) -> SessionFaults:
        """The faults of these sessions, with a log of their own."""
        mine = [f for f in self.faults if f.session in sessions]
        expiring = any(f.kind == "expired_url" for f in mine)
        return SessionFaults(mine, self.edge, self.signing_secret if expiring else None)

    @contextlib.asynccontextmanager
    async def link(self, index: int) -> AsyncIterator[tuple[str, int]]:
        """Where session `index`'s shaper connects: a fault proxy when it has proxy faults."""
        mine = [f for f in self.for_session(index) if f.kind != "expired_url"]
        if not mine:
            yield self.edge
            return
        proxy = FaultProxy(self.edge, mine, self.log)
        port = await proxy.start()
        try:
            yield ("127.0.0.1", port)
        finally:
            await proxy.close()

    def first_url(self, index: int) -> Callable[[PlaybackInfo], str] | None:
        expiring = [f for f in self.for_session(index) if f.kind == "expired_url"]
        if not expiring or self.signing_secret is None:
            return None
        fault, secret = expiring[0], self.signing_secret

        def sign(playback: PlaybackInfo) -> str:
            now = time.monotonic()
            self.log.add(
                "expired_url",
                index,
                now + fault.at_s,
                now + fault.at_s,
                f"first manifest URL signed to expire after {fault.at_s:.1f} s",
            )
            return short_lived_url(secret, playback, fault.at_s)

        return sign

    async def play(
        self,
        spec: SessionSpec,
        api: BackendApi,
        setup: PlayerSetup,
        began: Callable[[int], None],
    ) -> SessionOutcome:
        """Session `spec` through its fault link. `began(index)` is called once it plays, or
        when it ends without having played: the run's process faults wait for it."""
        try:
            async with self.link(spec.index) as upstream:
                return await play(
                    spec,
                    api,
                    upstream,
                    setup,
                    self.first_url(spec.index),
                    on_playing=lambda: began(spec.index),
                )
        finally:
            began(spec.index)


class FaultRun:
    """The faults of one run: which session gets what, the process faults' task, the log."""

    def __init__(
        self,
        faults: Sequence[Fault],
        backend: ManagedBackend | None,
        edge: tuple[str, int],
        first_wave: int = 1,
    ) -> None:
        # Process faults wait until this many sessions have begun playing (or given up).
        self._first_wave = first_wave
        self._begun: set[int] = set()
        self._playing = asyncio.Event()
        self.skipped: list[str] = []
        needs_backend = {"expired_url", *PROCESS_FAULTS}
        if backend is None:
            # Only a backend started by qa can be stopped, restarted or sign URLs.
            self.skipped = sorted({f.kind for f in faults if f.kind in needs_backend})
            faults = [f for f in faults if f.kind not in needs_backend]
        self.faults = list(faults)
        self.backend = backend
        secret = (
            backend.config.url_signing_secret
            if backend is not None and any(f.kind == "expired_url" for f in faults)
            else None
        )
        self.sessions = SessionFaults([f for f in faults if f.session is not None], edge, secret)
        self.log = self.sessions.log
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def session_began(self, index: int) -> None:
        """Session `index` is playing, or ended without: it no longer holds the faults back."""
        self._begun.add(index)
        if len(self._begun) >= self._first_wave:
            self._playing.set()

    def start(self) -> None:
        process = [f for f in self.faults if f.session is None]
        if process and self.backend is not None:
            self._task = asyncio.create_task(
                process_faults(process, self.backend, self.log, self._stop, self._playing)
            )

    async def finish(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
