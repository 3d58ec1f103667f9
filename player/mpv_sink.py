"""Feed downloaded segments to libmpv through a non-seekable custom stream protocol.

mpv only demuxes, decodes and renders: the engine (and so `abr.session`) decides what to
fetch. Segments are queued in playback order and read by mpv's stream thread. A seekable
stream would invite mpv to seek around in data we have not fetched, so the stream has no
`seek`. For fragmented MP4 only the first init segment of a stream is sent: the renditions
share track IDs and timescales, and the first segment after a switch gets the new
rendition's parameter sets in front of its first sample (`fmp4_params`), so media segments
of any rendition follow it directly. A later DASH Period (or an HLS EXT-X-MAP after a
discontinuity) is joined the same way: its init's parameter sets go in front of its first
segment (libavformat skips a second `moov`), and its timestamps are moved to where the
presentation timeline places it (`placement`, `timestamps`); the separate audio track's
runs are placed the same way, each stream relative to its own first run. MPEG-TS needs no init at all; its
timestamps are moved the same way after an EXT-X-DISCONTINUITY. A seek outside
the buffer (`flush`) ends the stream and opens a new one at the new position; mpv keeps
media time (`rebase-start-time=no`), so `time-pos` stays comparable across streams.
A live encoder restart is a discontinuity like any other; live segments are placed at their
presentation time itself (`MediaSegment.anchored`), so `time-pos` is the session's position.
"""

from __future__ import annotations

import logging
import queue
import threading
import time

import mpv

from player.fmp4_params import ParameterSets, avc_parameter_sets, with_parameter_sets
from player.media_segment import MediaSegment
from player.placement import Placement
from player.ts_continuity import ContinuityRewriter, is_ts

END = None  # queued after the last segment
log = logging.getLogger(__name__)


def _container(first_bytes: bytes) -> str:
    """ffmpeg's demuxer for a stream that starts with these bytes; "" lets ffmpeg probe."""
    if is_ts(first_bytes):
        return "mpegts"
    if first_bytes[4:8] in (b"ftyp", b"styp", b"moof", b"moov", b"sidx"):
        return "mp4"
    return ""


def _log_failure(error: Exception | None, result: object) -> None:
    if error is not None:
        log.warning("libmpv could not add the audio track: %s", error)


class _QueueStream:
    """What libmpv reads: blocks until the engine has queued more media, b'' at the end."""

    def __init__(self, chunks: queue.Queue[bytes | None]) -> None:
        self._chunks = chunks
        self._pending = b""
        self._ended = False

    def read(self, size: int) -> bytes:
        while not self._pending:
            if self._ended:
                return b""
            item = self._chunks.get()
            if item is END:
                self._ended = True
                return b""
            self._pending = item
        out, self._pending = self._pending[:size], self._pending[size:]
        return out

    def cancel(self) -> None:
        self._chunks.put(END)


class MpvSink:
    """A `MediaSink` that plays through libmpv.

    `vo="null"` decodes without a window; `vo="libmpv"` leaves drawing to a render context
    (`player.mpv_render`) that the UI's video widget owns. `decryption_key` (32 hex digits)
    decrypts CENC media; ffmpeg applies it to every fragment it demuxes.
    """

    def __init__(
        self, vo: str = "null", ao: str = "null", decryption_key: str | None = None
    ) -> None:
        self._chunks: queue.Queue[bytes | None] = queue.Queue()
        # A separate audio track (DASH/CMAF ladders carry audio beside the video) is a second
        # stream of the same kind, opened by mpv as an external audio file of each stream.
        self._audio_chunks: queue.Queue[bytes | None] = queue.Queue()
        self.has_audio = False
        self._audio_switches = 0
        self._stream_init: bytes | None = None  # the init of the stream's latest segment
        self._params: dict[bytes, ParameterSets | None] = {}  # per init segment
        # The video and the audio each move their own timestamps (`player.placement`).
        self._placement = Placement()
        self._audio_placement = Placement()
        # The format option applies to every file mpv opens with ffmpeg, external subtitle
        # files (WebVTT) included: whoever adds those must turn this off.
        self.name_container = True
        self._sent_init = False
        self._started = False
        self._ts = ContinuityRewriter()  # TS renditions joined in one stream count on
        self._streams = 0
        self._first_frame = threading.Event()
        self.first_frame_at: float | None = None  # time.monotonic() of the first decoded frame
        self.position_s: float | None = None
        options: dict[str, str] = {}
        if decryption_key is not None:
            options["demuxer_lavf_o"] = f"decryption_key={decryption_key}"
        self.player = mpv.MPV(
            vo=vo,
            ao=ao,
            hwdec="no",
            # Keep mpv's own read-ahead small: the engine owns the buffer, not mpv.
            cache="no",
            demuxer_readahead_secs=1,
            demuxer_max_bytes="4MiB",
            rebase_start_time="no",
            # ffmpeg's default probe reads 5 s of packets before decoding starts; on a stream
            # that blocks for the next segment that means waiting for a second download.
            demuxer_lavf_analyzeduration=0.1,
            demuxer_lavf_probe_info="nostreams",
            # Start showing frames as soon as one is decoded (measured: ~55 -> ~20 ms from
            # data to first frame, with the container format named below).
            video_latency_hacks="yes",
            **options,
        )
        self.player.register_stream_protocol("streamlab", self._open)
        self.player.observe_property("time-pos", self._on_time)

    def _on_time(self, _name: str, value: float | None) -> None:
        # Called on mpv's event thread: only plain assignments here.
        if value is None:
            return
        self.position_s = float(value)
        if self.first_frame_at is None:
            self.first_frame_at = time.monotonic()
            self._first_frame.set()

    def _open(self, uri: str) -> _QueueStream:
        return _QueueStream(self._audio_chunks if "/audio/" in uri else self._chunks)

    def expect_audio(self) -> None:
        self.has_audio = True

    def audio_data(self, data: bytes) -> None:
        """The separate audio track's init segment, first in each of its streams."""
        self._audio_chunks.put(data)

    def audio_segment(self, segment: MediaSegment) -> None:
        """The separate audio track's next segment, placed on the timeline like the video."""
        self._audio_chunks.put(self._audio_placement.placed(segment))

    def audio_end(self) -> None:
        self._audio_chunks.put(END)

    def switch_audio(self) -> None:
        # mpv aligns the new external track by its timestamps: it starts at the segment
        # holding the current position and playback carries on without a seek.
        self._audio_chunks.put(END)
        self._audio_chunks = queue.Queue()
        self._audio_switches += 1
        if self._started:
            # Asynchronous: mpv probes the new stream, which blocks until the engine's loop
            # (the caller) has fetched its first bytes.
            self.player.command_async(
                "audio-add",
                f"streamlab://audio/{self._streams}.{self._audio_switches}",
                "select",
                callback=_log_failure,
            )

    def set_rate(self, rate: float) -> None:
        self.player.speed = rate

    def media_segment(self, segment: MediaSegment) -> None:
        data = self._placement.placed(segment)
        if is_ts(data):
            data = self._ts.rewrite(data)
        elif self._sent_init and segment.init != self._stream_init:
            data = self._with_init_params(segment.init, data)
        self._stream_init = segment.init
        if not self._sent_init and segment.init is not None:
            self._sent_init = True
            self._chunks.put(segment.init)
        self._chunks.put(data)
        if not self._started:
            self._started = True
            self._streams += 1
            if self.name_container:
                # Skips ffmpeg's format probe, which waits for more bytes than one segment.
                self.player["demuxer-lavf-format"] = _container(segment.init or data)
            if self.has_audio:
                self.player["audio-files"] = [f"streamlab://audio/{self._streams}"]
            self.player.play(f"streamlab://stream/{self._streams}")

    def _with_init_params(self, init: bytes | None, data: bytes) -> bytes:
        """The first fMP4 segment after a switch (or a new Period), with its init's SPS/PPS in
        front."""
        if init is None:
            return data
        if init not in self._params:
            self._params[init] = avc_parameter_sets(init)
        params = self._params[init]
        return data if params is None else with_parameter_sets(data, params)

    def flush(self, position_s: float) -> None:
        """End the current stream; the next segment opens a new one (a seek)."""
        self._chunks.put(END)
        self._chunks = queue.Queue()
        self._audio_chunks.put(END)
        self._audio_chunks = queue.Queue()
        self._sent_init = False
        self._stream_init = None
        self._started = False
        self._ts = ContinuityRewriter()
        self.position_s = position_s

    def end_of_stream(self) -> None:
        self._chunks.put(END)

    def wait_until_played(self, timeout_s: float) -> bool:
        """Block until mpv has played everything queued (or the time-out); True if it did."""
        if not self._started:
            return True
        try:
            self.player.wait_for_playback(timeout=timeout_s)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        self._chunks.put(END)
        self._audio_chunks.put(END)
        self.player.terminate()
