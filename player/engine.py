"""The playback engine: drives `abr.session` with real HTTP (httpx) and hands media to a sink.

The same session logic as the simulator decides every request; this driver carries the
commands out over the network and feeds back what happened, stamped with a monotonic clock:
- FetchSegment: a download task streams the segment (after its init segment, once per
  rendition), reporting progress so the session can abandon a late download;
- FetchIndex (DASH SegmentBase): a ranged GET of a rendition's sidx, answered with IndexLoaded;
- AbortRequest: the task is cancelled and its bytes dropped;
- HTTP errors, time-outs and truncated bodies become SegmentFailed with the reason and URL,
  and the session retries with back-off (switching down) or gives up with SessionFailed.
Live presentations add: ClockSynced with ManifestLoaded (`player.live_clock`); RefreshManifest,
a reload of the same URL parsed at the synced UTC now, answered with ManifestRefreshed or
RefreshFailed (a 403 re-signs the URL through `refresh_url` first); SetPlaybackRate, the sink's
speed. Every segment reaches the sink with the init it needs and its place on the presentation
timeline (`MediaSegment`); the sink moves timestamps where a Period, a discontinuity or an
encoder restart makes them jump, and for live onto presentation time itself.
Finished segments go to a `MediaSink` in order: libmpv in the player, a counter in
`--no-decode` runs, where the session's own playout clock stands in for the decoder.
"""

from __future__ import annotations

import asyncio
import logging
import time
from bisect import bisect_right
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import httpx

from abr.algorithm import AbrAlgorithm
from abr.commands import (
    AbortRequest,
    Command,
    FetchIndex,
    FetchSegment,
    FlushBuffer,
    RefreshManifest,
    SessionFailed,
    SetPlaybackRate,
)
from abr.config import SessionConfig
from abr.events import (
    BytesReceived,
    GoLive,
    IndexLoaded,
    ManifestLoaded,
    ManifestRefreshed,
    Pause,
    PlaybackPosition,
    QualityCapChanged,
    RefreshFailed,
    Resume,
    Seek,
    SegmentDone,
    SegmentFailed,
    Tick,
)
from abr.manifests import ManifestError, with_indexes
from abr.presentation import MediaTrack, Presentation, Rendition, SegmentRef
from abr.qoe import QoeSummary, summarize
from abr.session import Phase, Session, SessionMetrics
from player.audio import AudioFollower, AudioSink
from player.drm import DecryptionError, FetchKey, HlsAes128
from player.live_clock import sync_clock
from player.manifest_loader import LoadedManifest, ManifestFetchError, load_manifest
from player.media_segment import MediaSegment
from player.prefetch import TRANSFER_HEADER

PROGRESS_INTERVAL_S = 0.1  # how often a download reports its progress to the session
RETRYABLE_STATUS = {408, 425, 429}
log = logging.getLogger(__name__)

# What the viewer (pause, seek, a quality cap) and the decoder (its position) tell the session.
ControlEvent = Pause | Resume | Seek | PlaybackPosition | QualityCapChanged | GoLive
# A live clock more than this off the system's is worth a second parse of the first MPD.
CLOCK_REPARSE_S = 0.5
# Without UTCTiming, a manifest Date this far from the system clock overrides it (a Date has
# whole seconds, and the request's round trip comes on top).
DATE_SKEW_S = 3.0


class _Stop:
    """Queued by `PlaybackEngine.stop`: end the run as if `stop_after_s` had passed."""


class MediaSink(Protocol):
    """Where downloaded media goes, in playback order."""

    def media_segment(self, segment: MediaSegment) -> None: ...

    def flush(self, position_s: float) -> None: ...

    def end_of_stream(self) -> None: ...

    def set_rate(self, rate: float) -> None:
        """Play at `rate` x from now on (live catch-up)."""


@dataclass
class CountingSink:
    """A sink that decodes nothing: it counts what arrived (`--no-decode` runs, tests)."""

    segments: list[tuple[int, int, int]] = field(default_factory=list)  # (index, rendition, bytes)
    inits: dict[int, int] = field(default_factory=dict)  # rendition -> bytes of its latest init
    flushes: list[float] = field(default_factory=list)
    ended: bool = False
    rates: list[float] = field(default_factory=list)

    def media_segment(self, segment: MediaSegment) -> None:
        self.segments.append((segment.index, segment.rendition, len(segment.data)))
        if segment.init is not None:
            self.inits[segment.rendition] = len(segment.init)

    def flush(self, position_s: float) -> None:
        self.flushes.append(position_s)

    def end_of_stream(self) -> None:
        self.ended = True

    def set_rate(self, rate: float) -> None:
        self.rates.append(rate)


@dataclass
class PlaybackResult:
    presentation: Presentation
    metrics: SessionMetrics
    summary: QoeSummary
    failure: str | None


class _Download:
    def __init__(self, command: FetchSegment, task: asyncio.Task[None]) -> None:
        self.command = command
        self.task = task
        self.body = b""
        self.init: bytes | None = None
        # Where the presentation timeline places it, and its run of continuous timestamps:
        # taken when it is requested, as a live reload may shift the indices meanwhile.
        self.start_s = 0.0
        self.timeline = 0


class PlaybackEngine:
    def __init__(
        self,
        url: str,
        algorithm: AbrAlgorithm,
        sink: MediaSink,
        client: httpx.AsyncClient,
        config: SessionConfig | None = None,
        clock: Callable[[], float] = time.monotonic,
        start_position_s: float = 0.0,
        on_command: Callable[[Command], None] | None = None,
        audio_sink: AudioSink | None = None,
        fetch_key: FetchKey | None = None,
        refresh_url: Callable[[], Awaitable[str]] | None = None,
        time_url: str | None = None,
    ) -> None:
        """`refresh_url`, when given, is asked for a new manifest URL when a media request is
        refused with 403 (an expired signed URL): the manifest is fetched again from it and
        the request retried at the new address of the same segment. `time_url`: where a live
        presentation without DASH UTCTiming reads the server's time (an http-iso source)."""
        # Fetches an HLS AES-128 key by URI; by default a plain GET (no credentials).
        self._fetch_key = fetch_key
        self.audio_sink = audio_sink  # where a separate audio track goes; None: video only
        self.url = url
        self.start_position_s = start_position_s
        self._on_command = on_command
        self.sink = sink
        self.client = client
        self.session = Session(algorithm, config)
        self._clock = clock
        self._origin = clock()
        self._events: asyncio.Queue[
            BytesReceived
            | SegmentDone
            | IndexLoaded
            | SegmentFailed
            | ManifestRefreshed
            | RefreshFailed
            | ControlEvent
            | _Stop
        ] = asyncio.Queue()
        self._stopped = False
        self._downloads: dict[int, _Download] = {}
        self._index_downloads: dict[int, tuple[FetchIndex, asyncio.Task[None]]] = {}
        # DASH SegmentBase: each rendition's sidx bytes, to index a refreshed manifest again.
        self._index_boxes: dict[int, bytes] = {}
        self._manifest: LoadedManifest | None = None
        # Each initialization segment, fetched once: a rendition's, or a later Period's own.
        self._inits: dict[tuple[int, SegmentRef], bytes] = {}
        self._failure: str | None = None
        self._audio: AudioFollower | None = None
        self._audio_renditions: dict[str, Rendition] = {}
        self.audio_tracks: tuple[MediaTrack, ...] = ()  # the separate audio tracks one can pick
        self.audio_track_id: str | None = None
        self._highest_fetched = -1
        self.manifest_loaded_at: float | None = None  # clock() values, for the TTFF breakdown
        self.first_segment_at: float | None = None
        self.last_failure: str | None = None  # why the latest download failed, until one succeeds
        self._decryptor: HlsAes128 | None = None
        self._refresh_url = refresh_url
        self._refreshing: asyncio.Task[LoadedManifest] | None = None
        # The presentation requests go to: replaced when the signed URL is refreshed.
        self._current: Presentation | None = None
        # Every failed request as (session time, reason): retries are visible in reports.
        self.failures: list[tuple[float, str]] = []
        self._time_url = time_url
        self.live = False
        # utc = clock() + this; the system's guess until a live presentation syncs it.
        self.utc_offset_s = time.time() - clock()
        self.clock_source = "system clock"
        self.playback_rate = 1.0
        self._reload_task: asyncio.Task[None] | None = None

    @property
    def started_at(self) -> float:
        """The clock value at session time 0 (once the manifest is loaded)."""
        return self._origin

    def _start_audio(self, manifest: LoadedManifest) -> None:
        """Follow the default (else the first) separate audio track, if the sink plays audio."""
        if not manifest.audio or self.audio_sink is None:
            return
        tracks = manifest.presentation.audio_tracks
        default = next((t.id for t in tracks if t.is_default and t.id in manifest.audio), None)
        self.audio_track_id = default or next(iter(manifest.audio))
        self._audio_renditions = manifest.audio
        self.audio_tracks = tuple(t for t in tracks if t.id in manifest.audio)
        self.audio_sink.expect_audio()
        self._audio = self._follower(manifest.audio[self.audio_track_id])
        if self.live:
            start = self._live_index(self.session.position_s)
        else:
            start = manifest.presentation.segment_at(self.start_position_s)
        self._audio.start(start)

    def _follower(self, rendition: Rendition) -> AudioFollower:
        assert self.audio_sink is not None
        return AudioFollower(
            rendition,
            self.client,
            self.audio_sink,
            lambda: self._highest_fetched,
            place=self._place,
            live=self.live,
        )

    def _place(self, index: int) -> tuple[float, int]:
        """Where segment `index` of the session's list starts on the presentation timeline,
        and its run of continuous timestamps (`MediaSegment.timeline`)."""
        presentation = self.session.context.presentation
        timeline = presentation.timeline
        run = timeline.discontinuity_sequence + bisect_right(timeline.discontinuities, index)
        index = min(index, presentation.segment_count - 1)
        return timeline.start_s + presentation.segment_start_s(index), run

    def _live_index(self, position_s: float) -> int:
        presentation = self.session.context.presentation
        return presentation.segment_at(position_s - presentation.timeline.start_s)

    def select_audio(self, track_id: str) -> None:
        """Switch the audio track at the current position (on the engine's loop)."""
        if self._audio is None or self.audio_sink is None or track_id == self.audio_track_id:
            return
        if track_id not in self._audio_renditions:
            raise ValueError(f"no audio track {track_id!r}; have {sorted(self._audio_renditions)}")
        self._audio.stop()
        self.audio_track_id = track_id
        self._audio = self._follower(self._audio_renditions[track_id])
        self.audio_sink.switch_audio()
        position = self.session.position_s
        index = (
            self._live_index(position)
            if self.live
            else self.session.context.presentation.segment_at(position)
        )
        self._audio.start(index)

    @property
    def indexed_presentation(self) -> Presentation | None:
        """What the session plays; None before the manifest is loaded and, for on-demand DASH,
        indexed (until then the session has no context to read)."""
        current = self._current
        if current is None or not current.is_indexed or self.session.phase is Phase.IDLE:
            return None  # (the UI thread may ask between the load and ManifestLoaded)
        return current

    def now(self) -> float:
        return self._clock() - self._origin

    def post(self, event: ControlEvent) -> None:
        """A viewer's or the decoder's event; stamped with the engine's clock on arrival.

        Call on the engine's event loop (from another thread: `loop.call_soon_threadsafe`)."""
        self._events.put_nowait(event)

    def stop(self) -> None:
        """End the run; `run` returns the session's result so far. Same threading as `post`."""
        self._events.put_nowait(_Stop())

    def _utc_now(self) -> float:
        return self._clock() + self.utc_offset_s

    async def _load_first(self) -> LoadedManifest:
        """The manifest; for a live one, with the clock synced before the session sees it."""
        manifest = await load_manifest(self.client, self.url, self._utc_now)
        timeline = manifest.presentation.timeline
        if not timeline.live:
            return manifest
        synced = await sync_clock(self.client, timeline.utc_timing, self._time_url, self._clock)
        offset, source = synced.offset_s, synced.source
        skew = manifest.server_clock_skew_s
        if source == "system clock" and skew is not None and abs(skew) > DATE_SKEW_S:
            # No time source, and this clock disagrees with the MPD's server by more than a
            # Date's precision allows: segments this clock thinks available would 404 (or
            # the join would lag by the error). The server's clock is the one that counts.
            log.warning(
                "live clock: the system clock is %.0f s %s the manifest server's (the Date of "
                "%s) and the MPD has no UTCTiming: using the server's time",
                abs(skew),
                "behind" if skew > 0 else "ahead of",
                self.url,
            )
            offset, source = offset + skew, f"Date header of {self.url}"
        moved = abs(offset - self.utc_offset_s)
        self.utc_offset_s, self.clock_source = offset, source
        if timeline.start_is_absolute and moved > CLOCK_REPARSE_S:
            # Which segments exist was decided with the wrong clock: load it again.
            manifest = await load_manifest(self.client, self.url, self._utc_now)
        return manifest

    async def run(self, stop_after_s: float | None = None) -> PlaybackResult:
        manifest = await self._load_first()
        presentation = manifest.presentation
        self.live = presentation.timeline.live
        self._current = presentation
        self.manifest_loaded_at = self._clock()
        self._origin = self._clock()  # the session starts once the manifest is known
        self._manifest = manifest
        decryptor = HlsAes128(manifest.hls_keys, self._fetch_key or self._plain_key)
        self._decryptor = decryptor if decryptor.needed else None
        commands = self.session.handle(
            ManifestLoaded(
                0.0,
                presentation,
                start_position_s=self.start_position_s,
                # The session's clock is ours less the origin.
                utc_offset_s=self.utc_offset_s + self._origin if self.live else None,
            )
        )
        if presentation.is_indexed:  # else once the session has indexed it (the audio follows it)
            self._start_audio(manifest)
        try:
            while True:
                self._execute(commands)
                if self.session.phase in (Phase.ENDED, Phase.FAILED):
                    break
                if self._stopped or (stop_after_s is not None and self.now() >= stop_after_s):
                    commands = self.session.handle(Tick(self.now()))
                    break
                commands = await self._next_event(stop_after_s)
        finally:
            for download in self._downloads.values():
                download.task.cancel()
            for _, task in self._index_downloads.values():
                task.cancel()
            if self._reload_task is not None:
                self._reload_task.cancel()
            if self._audio is not None:
                self._audio.stop()
        metrics = self.session.metrics()
        if self._current is not None and self._current.is_indexed:
            presentation = self._current
        return PlaybackResult(
            presentation, metrics, summarize(metrics, presentation), self._failure
        )

    async def _next_event(self, stop_after_s: float | None) -> list[Command]:
        wake = self.session.next_wakeup()
        if stop_after_s is not None:
            wake = stop_after_s if wake is None else min(wake, stop_after_s)
        timeout = None if wake is None else max(wake - self.now(), 0.0)
        try:
            event = await asyncio.wait_for(self._events.get(), timeout)
        except TimeoutError:
            return self.session.handle(Tick(self.now()))
        if isinstance(event, _Stop):
            self._stopped = True
            return []
        # Stamped again on arrival: the session must see time move forward only.
        event = event.replace(now=max(event.now, self.now()))
        if isinstance(event, SegmentDone):
            download = self._downloads.pop(event.request_id, None)
            if download is None:
                return []  # aborted meanwhile
            command = download.command
            self.last_failure = None
            if self.first_segment_at is None:
                self.first_segment_at = self._clock()
            self.sink.media_segment(
                MediaSegment(
                    command.segment_index,
                    command.rendition_index,
                    download.body,
                    download.init,
                    download.start_s,
                    download.timeline,
                    anchored=self.live,
                )
            )
            presentation = self.session.context.presentation
            last = command.segment_index == presentation.segment_count - 1
            if last and (not self.live or presentation.timeline.ended):
                self.sink.end_of_stream()
        elif isinstance(event, ManifestRefreshed):
            return self._refreshed(event)
        elif isinstance(event, RefreshFailed):
            self.failures.append((event.now, event.reason))
        elif isinstance(event, IndexLoaded):
            fetched = self._index_downloads.pop(event.request_id, None)
            if fetched is None:
                return []
            self._index_boxes[fetched[0].rendition_index] = event.data
            commands = self.session.handle(event)
            if self.session.phase is Phase.STARTING:  # indexed: requests go to its segments
                self._current = self.session.context.presentation
                assert self._manifest is not None
                self._start_audio(self._manifest)
            return commands
        elif isinstance(event, SegmentFailed):
            known = self._downloads.pop(event.request_id, None) or self._index_downloads.pop(
                event.request_id, None
            )
            if known is None:
                return []
            self.last_failure = event.reason
        return self.session.handle(event)

    def _execute(self, commands: list[Command]) -> None:
        for command in commands:
            if self._on_command is not None:
                self._on_command(command)
            if isinstance(command, FetchSegment):
                self._highest_fetched = max(self._highest_fetched, command.segment_index)
                task = asyncio.create_task(self._download(command))
                fetch = _Download(command, task)
                fetch.start_s, fetch.timeline = self._place(command.segment_index)
                self._downloads[command.request_id] = fetch
            elif isinstance(command, FetchIndex):
                task = asyncio.create_task(self._download_index(command))
                self._index_downloads[command.request_id] = (command, task)
            elif isinstance(command, AbortRequest):
                download = self._downloads.pop(command.request_id, None)
                if download is not None:
                    download.task.cancel()
            elif isinstance(command, RefreshManifest):
                if self._reload_task is None or self._reload_task.done():
                    self._reload_task = asyncio.create_task(self._reload_live())
            elif isinstance(command, SetPlaybackRate):
                self.playback_rate = command.rate
                self.sink.set_rate(command.rate)
            elif isinstance(command, FlushBuffer):
                self.sink.flush(command.position_s)
                index = (
                    self._live_index(command.position_s)
                    if self.live
                    else self.session.context.presentation.segment_at(command.position_s)
                )
                self._highest_fetched = index - 1
                if self._audio is not None:
                    self._audio.start(index)
            elif isinstance(command, SessionFailed):
                self._failure = command.reason

    async def _download(self, command: FetchSegment) -> None:
        rid = command.request_id
        segment = command.segment
        try:
            try:
                await self._fetch(command)
            except _HttpStatus as exc:
                if exc.status != 403 or self._refresh_url is None:
                    raise
                if self.live:
                    # New addresses come with the next reload (from the re-signed URL); the
                    # session retries the segment after it.
                    self.url = await self._refresh_url()
                    raise _HttpStatus(f"{exc}; the manifest URL was re-signed", True) from exc
                await self._refresh(exc)
                await self._fetch(command)
        except httpx.TimeoutException:
            self._fail(rid, f"time-out fetching {segment.url}", True)
        except httpx.HTTPError as exc:
            self._fail(rid, f"{exc.__class__.__name__} fetching {segment.url}: {exc}", True)
        except _HttpStatus as exc:
            # Live: a listed segment that is not there yet is most likely late (the newest one,
            # an edge behind its origin); the session retries it while the channel lasts.
            late = self.live and exc.status in (404, 410)
            self._fail(rid, str(exc), exc.retryable or late)
        except DecryptionError as exc:
            self._fail(rid, str(exc), False)

    async def _download_index(self, command: FetchIndex) -> None:
        rid = command.request_id
        try:
            try:
                data = await self._get_all(self._index_ref(command))
            except _HttpStatus as exc:
                if exc.status != 403 or self._refresh_url is None:
                    raise
                await self._refresh(exc)
                data = await self._get_all(self._index_ref(command))
        except httpx.TimeoutException:
            self._fail(rid, f"time-out fetching {command.ref.url}", True)
        except httpx.HTTPError as exc:
            self._fail(rid, f"{exc.__class__.__name__} fetching {command.ref.url}: {exc}", True)
        except _HttpStatus as exc:
            self._fail(rid, str(exc), exc.retryable)
        else:
            self._events.put_nowait(IndexLoaded(self.now(), rid, data))

    def _index_ref(self, command: FetchIndex) -> SegmentRef:
        # The current presentation's address: the same file after a refresh of the signed URL.
        rendition = self._rendition(command.rendition_index)
        return rendition.index if rendition is not None and rendition.index else command.ref

    async def _fetch(self, command: FetchSegment) -> None:
        if self.live:
            # The session's address: a live list shifts with every reload.
            segment, init = command.segment, command.init
        else:
            # Addresses from the current presentation: the same after a refresh of the signed URL.
            rendition = self._rendition(command.rendition_index)
            segment = rendition.segments[command.segment_index] if rendition else command.segment
            init = (segment.init or rendition.init) if rendition is not None else command.init
        if init is not None:  # each rendition's init once (a later Period's, a restart's: new)
            key = (command.rendition_index, init)
            if key not in self._inits:
                self._inits[key] = await self._get_all(init)
            download = self._downloads.get(command.request_id)
            if download is not None:
                download.init = self._inits[key]
        await self._stream(command.request_id, segment)

    async def _reload_live(self) -> None:
        """RefreshManifest: the same URL again (re-signed once if refused), parsed at UTC now."""
        try:
            try:
                manifest = await load_manifest(self.client, self.url, self._utc_now)
            except ManifestFetchError as exc:
                if exc.status != 403 or self._refresh_url is None:
                    raise
                self.url = await self._refresh_url()
                manifest = await load_manifest(self.client, self.url, self._utc_now)
        except (ManifestError, httpx.HTTPError) as exc:  # the API's errors are httpx's too
            self._events.put_nowait(RefreshFailed(self.now(), str(exc)))
            return
        except Exception as exc:  # refresh_url's own (ApiError): the session backs off
            self._events.put_nowait(RefreshFailed(self.now(), f"re-signing the URL: {exc}"))
            return
        self._manifest = manifest
        self._events.put_nowait(ManifestRefreshed(self.now(), manifest.presentation))

    def _refreshed(self, event: ManifestRefreshed) -> list[Command]:
        before = self.session.context.presentation.timeline.first_number
        commands = self.session.handle(event)
        presentation = self.session.context.presentation
        self._current = presentation
        dropped = presentation.timeline.first_number - before
        self._highest_fetched -= dropped
        assert self._manifest is not None
        self._audio_renditions = self._manifest.audio or self._audio_renditions
        if self._audio is not None and self.audio_track_id in self._audio_renditions:
            self._audio.slide(self._audio_renditions[self.audio_track_id], dropped)
        return commands

    def _rendition(self, index: int) -> Rendition | None:
        return None if self._current is None else self._current.renditions[index]

    async def _refresh(self, refused: _HttpStatus) -> None:
        """One manifest re-fetch for all downloads refused at the same time."""
        if self._refreshing is None or self._refreshing.done():
            assert self._refresh_url is not None
            self._refreshing = asyncio.create_task(self._reload(self._refresh_url))
        try:
            manifest = await self._refreshing
        except (httpx.HTTPError, ManifestError) as exc:
            # No answer or a server error (the API, origin or edge restarting): the session
            # retries with its back-off, and the next attempt re-signs again.
            transient = isinstance(exc, httpx.TransportError) or (
                isinstance(exc, ManifestFetchError) and (exc.status is None or exc.status >= 500)
            )
            raise _HttpStatus(
                f"{refused}; refreshing the manifest URL failed: {exc}", transient
            ) from exc
        self._current = manifest.presentation
        if not self._current.is_indexed and self.session.phase is not Phase.INDEXING:
            # The same files at new addresses: their indexes, already read, still hold.
            try:
                self._current = with_indexes(self._current, self._index_boxes)
            except ManifestError as exc:
                raise _HttpStatus(f"{refused}; the refreshed manifest: {exc}", False) from exc
        # The audio's signed addresses expired with the video's.
        self._audio_renditions = manifest.audio or self._audio_renditions
        if self._audio is not None and self.audio_track_id in manifest.audio:
            self._audio.rendition = manifest.audio[self.audio_track_id]

    async def _reload(self, refresh_url: Callable[[], Awaitable[str]]) -> LoadedManifest:
        self.url = await refresh_url()
        return await load_manifest(self.client, self.url)

    async def _plain_key(self, uri: str) -> bytes:
        response = await self.client.get(uri)
        _check_status(response, uri)
        return response.content

    async def _get_all(self, ref: SegmentRef) -> bytes:
        response = await self.client.get(str(ref.url), headers=_range_header(ref))
        _check_status(response, str(ref.url))
        if ref.byte_range is not None and response.status_code != 206:
            # A server that ignores Range sends the whole file: not the bytes asked for.
            raise _HttpStatus(
                f"HTTP {response.status_code} (not 206) for a range of {ref.url}", False
            )
        return response.content

    async def _stream(self, rid: int, segment: SegmentRef) -> None:
        url = str(segment.url)
        async with self.client.stream("GET", url, headers=_range_header(segment)) as response:
            _check_status(response, url)
            expected = response.headers.get("content-length")
            first_byte: float | None = None
            chunks: list[bytes] = []
            received = 0
            reported = -1.0
            # A body the prefetcher already fetched arrives at memory speed: date its first
            # byte back by the real transfer time, so the throughput estimate stays honest.
            prefetched = response.headers.get(TRANSFER_HEADER)
            async for chunk in response.aiter_bytes():
                now = self.now()
                if first_byte is None:
                    first_byte = now - float(prefetched) if prefetched else now
                chunks.append(chunk)
                received += len(chunk)
                if now - reported >= PROGRESS_INTERVAL_S:
                    reported = now
                    self._events.put_nowait(BytesReceived(now, rid, float(received), first_byte))
        if expected is not None and received != int(expected):
            raise _HttpStatus(f"truncated {url}: {received} of {expected} bytes", True)
        download = self._downloads.get(rid)
        if download is None:
            return
        body = b"".join(chunks)
        if self._decryptor is not None:
            command = download.command
            rendition = self.session.context.presentation.renditions[command.rendition_index]
            body = await self._decryptor.decrypt(rendition.id, command.segment_index, body, url)
        download.body = body
        now = self.now()
        self._events.put_nowait(SegmentDone(now, rid, float(received), first_byte or now))

    def _fail(self, rid: int, reason: str, retryable: bool) -> None:
        self.failures.append((self.now(), reason))
        self._events.put_nowait(SegmentFailed(self.now(), rid, reason, retryable))


class _HttpStatus(Exception):
    def __init__(self, message: str, retryable: bool, status: int = 0) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.status = status


def _check_status(response: httpx.Response, url: str) -> None:
    code = response.status_code
    if code >= 400:
        raise _HttpStatus(f"HTTP {code} for {url}", code >= 500 or code in RETRYABLE_STATUS, code)


def _range_header(ref: SegmentRef) -> dict[str, str]:
    if ref.byte_range is None:
        return {}
    first, last = ref.byte_range
    return {"Range": f"bytes={first}-{last}"}
