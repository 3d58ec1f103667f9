"""One playback: the engine on the network loop, libmpv decoding, progress sync, stats.

The controller lives on the GUI thread and talks to the rest only through the async runner:
engine methods run on the network loop, engine and mpv callbacks come back as queued
signals. It measures time to first frame from the viewer's key-press, with its breakdown.
"""

from __future__ import annotations

import base64
import logging
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx
from PySide6.QtCore import QObject, QTimer, Signal

import api_paths
from abr.commands import (
    Command,
    FetchSegment,
    SessionFailed,
    StallEnded,
    StallStarted,
    StartPlayback,
)
from abr.config import SessionConfig
from abr.events import GoLive, Pause, PlaybackPosition, Resume, Seek
from abr.registry import PROFILES, resolve
from abr.session import Phase, Session
from player.api import ApiError, AuthError, BackendApi, PlaybackInfo
from player.engine import PlaybackEngine, PlaybackResult
from player.mpv_sink import MpvSink
from player.prefetch import Prefetcher
from player.progress import ProgressSync
from player.ui.async_runner import AsyncRunner

log = logging.getLogger(__name__)

PROGRESS_EVERY_S = 10.0
STATS_EVERY_MS = 500


@dataclass
class Ttff:
    """Seconds from the Play key-press; None for a step that did not happen (a URL has no API)."""

    prefetched: bool = False  # the API answer, manifest and first segment were fetched on focus
    api_s: float | None = None
    licence_s: float | None = None
    manifest_s: float | None = None
    first_segment_s: float | None = None
    first_frame_s: float | None = None

    def line(self) -> str:
        parts = [
            f"{k.removesuffix('_s')} {v:.3f}" for k, v in vars(self).items() if isinstance(v, float)
        ]
        return ("TTFF (prefetched) " if self.prefetched else "TTFF ") + ", ".join(parts)


@dataclass(frozen=True)
class StatsSample:
    at_s: float
    rendition: str
    height: int | None
    bitrate_kbps: float
    buffer_s: float
    throughput_kbps: float | None
    dropped_frames: int
    position_s: float
    phase: str
    live: LiveSample | None = None


@dataclass(frozen=True)
class LiveSample:
    """Where a live channel's playhead is: positions in presentation time."""

    latency_s: float | None  # as `abr.session.Session.live_latency_s` defines it
    target_latency_s: float
    rate: float  # the playback rate (catch-up)
    window_start_s: float  # the DVR window's first position
    edge_s: float  # the live edge: the position whose latency is 0

    @property
    def at_edge(self) -> bool:
        """Within 1.5 target latencies of the edge (the LIVE badge is red)."""
        return self.latency_s is None or self.latency_s <= 1.5 * self.target_latency_s


@dataclass
class PlaybackRequest:
    """What to play: a title of the backend, or a manifest URL."""

    video_id: str | None = None
    url: str | None = None
    start_s: float = 0.0
    pressed_at: float = field(default_factory=time.monotonic)


class PlaybackController(QObject):
    first_frame = Signal(object)  # Ttff
    stats = Signal(object)  # StatsSample
    # buffering, playing, paused, stalled, ended, "retrying: <reason>", "stalled: <live trouble>"
    state = Signal(str)
    failed = Signal(str, str)  # kind (network, auth, media, live), message
    opened = Signal(object)  # PlaybackInfo or None for a plain URL
    sink_created = Signal(object)  # MpvSink, before it plays: attach a video surface now

    def __init__(
        self,
        runner: AsyncRunner,
        client: httpx.AsyncClient,
        api: BackendApi | None,
        progress: ProgressSync | None,
        device_id: str,
        make_sink: Callable[[], MpvSink],
        abr: str = "streamlab",
        session_config: SessionConfig | None = None,
        prefetcher: Prefetcher | None = None,
        packaging: str = "dash",
    ) -> None:
        super().__init__()
        # Which of a title's packagings to play: "dash" (CMAF), "hls" (CMAF) or "hls-ts".
        self.packaging = packaging
        self.prefetcher = prefetcher
        self.runner = runner
        self.client = client
        self.api = api
        self.progress = progress
        self.device_id = device_id or uuid.uuid4().hex[:12]
        self.make_sink = make_sink
        self.abr = abr
        self.session_config = session_config
        self.sink: MpvSink | None = None
        # Creating a libmpv instance takes tens of milliseconds: keep one ready between plays.
        self._spare_sink: MpvSink | None = None
        self.engine: PlaybackEngine | None = None
        self.info: PlaybackInfo | None = None
        self.ttff = Ttff()
        self.paused = False
        self.result: PlaybackResult | None = None
        self.renditions_played: set[int] = set()
        self._request: PlaybackRequest | None = None
        self._frame_seen = False
        self._retrying = False
        self._live_trouble: str | None = None  # what the stall message last said
        self._stats_timer = QTimer(self)
        self._stats_timer.timeout.connect(self._sample)
        self._progress_timer = QTimer(self)
        self._progress_timer.timeout.connect(lambda: self.report_progress("periodic"))

    # -- opening ---------------------------------------------------------------------

    def open(self, request: PlaybackRequest) -> None:
        self._request = request
        self.ttff = Ttff()
        self.paused = False
        self.result = None
        self.renditions_played = set()
        self._frame_seen = False
        self.state.emit("buffering")
        self.runner.then(self.runner.submit(self._prepare(request)), self._start, self._fail)

    async def _prepare(self, request: PlaybackRequest) -> tuple[str, str | None]:
        """(manifest URL, CENC key as hex or None), from the API when playing a title."""
        if request.video_id is None:
            assert request.url is not None
            return request.url, None
        assert self.api is not None
        info = self.prefetcher.take_info(request.video_id) if self.prefetcher else None
        self.ttff.prefetched = info is not None
        self.info = info or await self.api.playback_info(request.video_id)
        self.ttff.api_s = time.monotonic() - request.pressed_at
        key = None
        if self.info.drm is not None and self.packaging != "hls-ts":
            key = await self._clearkey(self.info)
            self.ttff.licence_s = time.monotonic() - request.pressed_at
        return self._url_for(self.info), key

    async def _clearkey(self, info: PlaybackInfo) -> str:
        """The CENC content key from the backend's ClearKey licence server, with our JWT."""
        assert self.api is not None and info.drm is not None
        kid = info.drm["key_id"]
        keys = await self.api.clearkey_license(info.drm["license_url"], [kid], info.session_id)
        if kid not in keys:
            raise ApiError(f"the licence server sent no key for key id {kid}")
        return base64.urlsafe_b64decode(keys[kid] + "=" * (-len(keys[kid]) % 4)).hex()

    async def _fresh_url(self) -> str:
        """New signed URLs from the API when the edge refuses expired ones mid-title."""
        assert self.api is not None and self.info is not None
        self.info = await self.api.playback_info(self.info.video_id)
        return self._url_for(self.info)

    def _url_for(self, info: PlaybackInfo) -> str:
        if self.packaging == "hls-ts":
            if info.hls_ts_url is None:
                raise ApiError(f"{info.title} has no HLS-TS packaging (serve --hls-ts)")
            return info.hls_ts_url  # AES-128 when encrypted: keys per segment
        return info.hls_url if self.packaging == "hls" else info.dash_url

    async def _hls_key(self, uri: str) -> bytes:
        """An HLS AES-128 key from the backend, with the viewer's JWT and playback session."""
        assert self.api is not None and self.info is not None
        return await self.api.hls_key(uri, self.info.session_id)

    def _start(self, prepared: tuple[str, str | None]) -> None:
        url, key = prepared
        assert self._request is not None
        self.opened.emit(self.info)
        self.sink = self._spare_sink or self.make_sink()
        self._spare_sink = None
        if key is not None:
            self.sink.player["demuxer-lavf-o"] = f"decryption_key={key}"
        if self.info is not None and self.info.subtitles:
            # mpv fetches the WebVTT itself (signed URLs: no token needed); off until chosen.
            self.sink.player["sub-files"] = [s.url for s in self.info.subtitles]
            self.sink.player["sid"] = "no"
            self.sink.name_container = False  # ffmpeg must probe the WebVTT files
        self.sink_created.emit(self.sink)
        self.sink.player.observe_property("time-pos", self._on_time_pos)
        algorithm = resolve(self.abr, PROFILES["default"])()
        self.engine = PlaybackEngine(
            url,
            algorithm,
            self.sink,
            self.client,
            self.session_config,
            start_position_s=self._request.start_s,
            on_command=self._on_command,
            audio_sink=self.sink,
            fetch_key=self._hls_key if self.api is not None else None,
            refresh_url=self._fresh_url if self.info is not None else None,
            time_url=f"{self.api.api_url}{api_paths.TIME}" if self.api is not None else None,
        )
        self.runner.then(self.runner.submit(self.engine.run()), self._finished, self._fail)
        self._stats_timer.start(STATS_EVERY_MS)
        if self.progress is not None and self.info is not None and not self.info.live:
            self._progress_timer.start(int(PROGRESS_EVERY_S * 1000))

    # -- callbacks from other threads --------------------------------------------------

    def _on_time_pos(self, _name: str, value: float | None) -> None:
        if value is None or self._frame_seen:
            return
        self._frame_seen = True
        self.runner.in_gui(self._first_frame)

    def _first_frame(self) -> None:
        assert self._request is not None and self.engine is not None
        pressed = self._request.pressed_at
        if self.engine.manifest_loaded_at is not None:
            self.ttff.manifest_s = self.engine.manifest_loaded_at - pressed
        if self.engine.first_segment_at is not None:
            self.ttff.first_segment_s = self.engine.first_segment_at - pressed
        self.ttff.first_frame_s = time.monotonic() - pressed
        log.info("%s: %s", self.info.title if self.info else self._request.url, self.ttff.line())
        self.first_frame.emit(self.ttff)

    def _on_command(self, command: Command) -> None:  # on the network loop
        engine = self.engine
        if isinstance(command, FetchSegment) and engine is not None:
            failure = engine.last_failure
            if command.replaces_request_id is not None and failure is not None:
                # The session retries with back-off (and a lower rendition): say so.
                self.runner.in_gui(lambda: self.state.emit(f"retrying: {failure}"))
            elif failure is None and self._retrying:
                self.runner.in_gui(lambda: self.state.emit("playing"))
            self._retrying = failure is not None
        elif isinstance(command, StartPlayback | StallEnded):
            self.runner.in_gui(lambda: self.state.emit("paused" if self.paused else "playing"))
        elif isinstance(command, StallStarted):
            self.runner.in_gui(lambda: self.state.emit("stalled"))
        elif isinstance(command, SessionFailed):
            reason = command.reason
            kind = "live" if engine is not None and engine.live else "network"
            self.runner.in_gui(lambda: self.failed.emit(kind, reason))

    def _finished(self, result: PlaybackResult) -> None:
        self.result = result
        self._stats_timer.stop()
        self._progress_timer.stop()
        if (
            result.failure is None
            and self.engine is not None
            and self.engine.session.phase is Phase.ENDED
        ):
            self.report_progress("ended")
            self.state.emit("ended")

    def _fail(self, error: BaseException) -> None:
        self._stats_timer.stop()
        self._progress_timer.stop()
        kind = (
            "auth"
            if isinstance(error, AuthError)
            else "network"
            if isinstance(error, ApiError)
            else "media"
        )
        self.failed.emit(kind, str(error))

    # -- viewer's controls -------------------------------------------------------------

    def position_s(self) -> float:
        if self.sink is not None and self.sink.position_s is not None:
            return self.sink.position_s
        return self._request.start_s if self._request is not None else 0.0

    def toggle_pause(self) -> None:
        if self.sink is None or self.engine is None:
            return
        self.paused = not self.paused
        self.sink.player.pause = self.paused
        engine = self.engine
        event = Pause(0.0) if self.paused else Resume(0.0)
        self.runner.call_soon(lambda: engine.post(event))
        self.state.emit("paused" if self.paused else "playing")
        if self.paused:
            self.report_progress("pause")

    @property
    def live(self) -> bool:
        return self.engine is not None and self.engine.live

    def go_live(self) -> None:
        """Back to the live edge (minus the target latency); nothing for VOD."""
        engine = self.engine
        if engine is not None and engine.live:
            self.runner.call_soon(lambda: engine.post(GoLive(0.0)))

    def seek(self, position_s: float) -> None:
        """Seek; live: `position_s` in presentation time, which the session clamps to the DVR
        window."""
        if self.engine is None:
            return
        engine = self.engine
        presentation = engine.indexed_presentation
        duration = presentation.duration_s if presentation is not None else math.inf
        clamped = min(max(position_s, 0.0), max(duration - 0.5, 0.0))
        target = position_s if engine.live else clamped
        self.runner.call_soon(lambda: engine.post(Seek(0.0, target)))
        if self.sink is not None:
            self.sink.position_s = target
        self.report_progress("seek", target)

    def select_audio(self, track_id: str) -> None:
        engine = self.engine
        if engine is not None:
            self.runner.call_soon(lambda: engine.select_audio(track_id))

    def stop(self, reason: str = "stop") -> None:
        """End playback: one last progress report, then the engine and mpv are released."""
        self._stats_timer.stop()
        self._progress_timer.stop()
        if self.engine is not None:
            self.report_progress(reason)
            engine = self.engine
            self.runner.call_soon(engine.stop)
        self.engine = None

    def release_sink(self) -> MpvSink | None:
        sink, self.sink = self.sink, None
        return sink

    def prepare_sink(self) -> None:
        """Create the next playback's libmpv instance now (idle time), not after Play."""
        if self._spare_sink is None:
            self._spare_sink = self.make_sink()

    def close(self) -> None:
        if self._spare_sink is not None:
            self._spare_sink.close()
            self._spare_sink = None

    def report_progress(self, reason: str, offset_s: float | None = None) -> None:
        if self.progress is None or self.info is None or self.info.live:
            return  # a channel has nothing to resume
        info = self.info
        offset = self.position_s() if offset_s is None else offset_s
        self.runner.submit(
            self.progress.report(info.video_id, info.session_id, offset, self.device_id, reason)
        )

    # -- stats -------------------------------------------------------------------------

    def _sample(self) -> None:
        engine, sink = self.engine, self.sink
        if engine is None or sink is None or engine.indexed_presentation is None:
            return
        session = engine.session
        if engine.live:
            self._show_live_trouble(session)
        position = sink.position_s
        if position is not None and not self.paused:
            self.runner.call_soon(lambda: engine.post(PlaybackPosition(0.0, position)))
        buffered = session.metrics().buffered
        presentation = session.context.presentation
        timeline = presentation.timeline
        current = buffered[-1][1] if buffered else 0
        if position is not None and buffered:
            # Live: `buffered` holds segment numbers, positions are presentation times.
            index = presentation.segment_at(position - timeline.start_s)
            index += timeline.first_number if engine.live else 0
            current = next((q for i, q in reversed(buffered) if i <= index), current)
        self.renditions_played.update(q for _, q in buffered)
        rendition = presentation.renditions[current]
        dropped = sink.player.frame_drop_count or 0
        self.stats.emit(
            StatsSample(
                at_s=engine.now(),
                rendition=rendition.id,
                height=rendition.height,
                bitrate_kbps=rendition.bitrate_kbps,
                buffer_s=session.buffer_s,
                throughput_kbps=session.throughput_kbps,
                dropped_frames=int(dropped),
                position_s=position or 0.0,
                phase=session.phase.name.lower(),
                live=self._live_sample() if engine.live else None,
            )
        )

    def _show_live_trouble(self, session: Session) -> None:
        """While a live channel brings nothing new, say why under the stall message."""
        waiting = session.phase in (Phase.STALLED, Phase.STARTING)
        trouble = session.live_trouble if waiting else None
        if trouble is not None and trouble != self._live_trouble:
            self.state.emit(f"stalled: {trouble}")
        self._live_trouble = trouble

    def _live_sample(self) -> LiveSample | None:
        assert self.engine is not None
        engine = self.engine
        window = engine.session.live_window
        if window is None:
            return None
        return LiveSample(
            latency_s=engine.session.live_latency_s,
            target_latency_s=window.target_latency_s,
            rate=engine.playback_rate,
            window_start_s=window.start_s,
            edge_s=window.edge_s,
        )
