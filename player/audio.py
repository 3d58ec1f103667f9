"""The separate audio track: fetched in order beside the video, a few segments ahead of it.

Audio is a small fraction of the bits (128 kbit/s against megabits of video), so it gets no
ABR of its own: one rendition, fetched sequentially, never more than `lead_segments` ahead of
the video the session has fetched, so it competes little with the video downloads. A seek
restarts it at the new position. If the audio cannot be fetched after a few tries the video
goes on without it and the failure is reported, rather than stalling the picture.

Each segment goes to the sink with its own init (a later DASH Period's, else the
rendition's) and its place on the presentation timeline (`place`: the start and timeline run
of the video segment of the same index; the ladders and the audio are cut alike), so the sink
moves its timestamps across a Period boundary as it moves the video's (`player.placement`).
Live (`live`): the track's list grows and slides with each manifest reload (`slide`), the
follower waits at its end for more, and each segment is placed at its presentation time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

import httpx

from abr.presentation import Rendition, SegmentRef
from player.media_segment import MediaSegment

log = logging.getLogger(__name__)

ATTEMPTS = 3
RETRY_S = 0.5


class AudioSink(Protocol):
    def expect_audio(self) -> None:
        """Called once, before any audio: the media has a separate audio track."""

    def audio_data(self, data: bytes) -> None:
        """An init segment: first in each audio stream (at the start, after a seek or a switch)."""

    def audio_segment(self, segment: MediaSegment) -> None: ...

    def switch_audio(self) -> None:
        """Another track follows: end the current audio stream and start a new one, at once."""

    def audio_end(self) -> None: ...


class AudioFollower:
    def __init__(
        self,
        rendition: Rendition,
        client: httpx.AsyncClient,
        sink: AudioSink,
        video_index: Callable[[], int],
        place: Callable[[int], tuple[float, int]],
        live: bool = False,
        lead_segments: int = 3,
    ) -> None:
        """`place(i)`: where segment i starts on the presentation timeline, and its run."""
        self.rendition = rendition
        self.client = client
        self.sink = sink
        self.video_index = video_index  # the highest video segment fetched so far
        self.lead_segments = lead_segments
        self.failure: str | None = None
        self._task: asyncio.Task[None] | None = None
        self._place = place
        self.live = live
        self._next = 0  # the next segment to fetch
        self._inits: dict[SegmentRef, bytes] = {}

    def slide(self, rendition: Rendition, dropped: int) -> None:
        """Live: a reload's list, in which the previous list's first `dropped` segments are gone
        (the indices of the rest moved down by as many)."""
        self.rendition = rendition
        self._next = max(self._next - dropped, 0)

    def start(self, first_index: int) -> None:
        """(Re)start at `first_index`: at the start and after every seek."""
        self.stop()
        self._task = asyncio.create_task(self._run(first_index))

    def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            self._task = None

    async def _run(self, first_index: int) -> None:
        self._next = first_index
        try:
            if first_index < len(self.rendition.segments):
                init = await self._init_of(self.rendition.segments[first_index])
                if init is not None:
                    self.sink.audio_data(init)
            while self._next < len(self.rendition.segments) or self.live:
                if (
                    self._next >= len(self.rendition.segments)
                    or self._next > self.video_index() + self.lead_segments
                ):
                    await asyncio.sleep(0.1)
                    continue
                index = self._next
                ref = self.rendition.segments[index]
                start_s, timeline = self._place(index)
                data = await self._get(ref)
                init = await self._init_of(ref)
                segment = MediaSegment(index, 0, data, init, start_s, timeline, self.live)
                self.sink.audio_segment(segment)
                self._next += 1  # (`slide` may have moved it meanwhile)
        except _AudioFailed as exc:
            self.failure = str(exc)
            log.warning("audio stops: %s", exc)
        self.sink.audio_end()

    async def _init_of(self, ref: SegmentRef) -> bytes | None:
        """The segment's init segment (its own Period's, else the rendition's), fetched once."""
        init = ref.init or self.rendition.init
        if init is None:
            return None
        if init not in self._inits:
            self._inits[init] = await self._get(init)
        return self._inits[init]

    async def _get(self, ref: SegmentRef) -> bytes:
        url = str(ref.url)
        reason = ""
        for attempt in range(ATTEMPTS):
            try:
                response = await self.client.get(url)
            except httpx.HTTPError as exc:
                reason = f"{exc.__class__.__name__}: {exc}"
            else:
                if response.status_code < 400:
                    return response.content
                reason = f"HTTP {response.status_code}"
                if response.status_code < 500:
                    break
            await asyncio.sleep(RETRY_S * 2**attempt)
        raise _AudioFailed(f"{reason} for {url}")


class _AudioFailed(Exception):
    pass
