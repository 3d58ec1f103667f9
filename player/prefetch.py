"""Manifest prefetch: when a title gets focus, fetch what Play will need first, in the background.

The playback API answer (signed URLs, a playback session), the DASH manifest, and the first
low-rendition segment and audio segment (with their init segments) at the viewer's resume
point. One title at a
time: focus moving on cancels the work for the previous one; a short delay first, so
scrolling past titles costs no requests. The bytes wait in a small cache that the player's
HTTP transport answers from, once per object, so the engine and the manifest loader need no
special path. A served segment says how long its real transfer took (a response header), so
the session's throughput estimate is not fooled by a memory copy.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from dataclasses import dataclass

import httpx

from abr.manifests import dash_audio_renditions, parse_dash
from player.api import ApiError, BackendApi, PlaybackInfo

TRANSFER_HEADER = "x-streamlab-prefetch-transfer-s"
FOCUS_DELAY_S = 0.25


@dataclass(frozen=True)
class _Stored:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    transfer_s: float
    stored_at: float


class PrefetchCache:
    """URL -> response, each taken at most once; bounded in bytes and age (signed URLs expire)."""

    def __init__(self, max_bytes: int = 32 << 20, ttl_s: float = 120.0) -> None:
        self.max_bytes = max_bytes
        self.ttl_s = ttl_s
        self._items: OrderedDict[str, _Stored] = OrderedDict()
        self.hits = 0

    def put(self, url: str, response: httpx.Response, transfer_s: float) -> None:
        dropped = ("content-encoding", "transfer-encoding", TRANSFER_HEADER)
        headers = tuple((k, v) for k, v in response.headers.items() if k.lower() not in dropped)
        self._items[url] = _Stored(
            response.status_code, headers, response.content, transfer_s, time.monotonic()
        )
        self._items.move_to_end(url)
        while sum(len(s.body) for s in self._items.values()) > self.max_bytes:
            self._items.popitem(last=False)

    def take(self, url: str) -> _Stored | None:
        stored = self._items.pop(url, None)
        if stored is None or time.monotonic() - stored.stored_at > self.ttl_s:
            return None
        self.hits += 1
        return stored


class PrefetchingTransport(httpx.AsyncBaseTransport):
    """Answers GETs from the prefetch cache when it holds the URL; otherwise the network."""

    def __init__(self, cache: PrefetchCache, inner: httpx.AsyncBaseTransport | None = None) -> None:
        self.cache = cache
        self.inner = inner or httpx.AsyncHTTPTransport()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.method == "GET" and "range" not in request.headers:
            stored = self.cache.take(str(request.url))
            if stored is not None:
                headers = [*stored.headers, (TRANSFER_HEADER, f"{stored.transfer_s:.6f}")]
                return httpx.Response(
                    stored.status, headers=headers, content=stored.body, request=request
                )
        return await self.inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self.inner.aclose()


class Prefetcher:
    """Use on the player's event loop. `client` should use a `PrefetchingTransport` on `cache`."""

    def __init__(self, api: BackendApi, client: httpx.AsyncClient, cache: PrefetchCache) -> None:
        self.api = api
        self.client = client
        self.cache = cache
        self._task: asyncio.Task[None] | None = None
        self._focused: str | None = None
        self._infos: dict[str, tuple[PlaybackInfo, float]] = {}
        self.completed = 0

    def focus(self, video_id: str, start_s: float = 0.0) -> None:
        if video_id == self._focused and self._task is not None and not self._task.done():
            return
        self.cancel()
        self._focused = video_id
        self._task = asyncio.create_task(self._prefetch(video_id, start_s))

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._task = None
        self._focused = None

    def take_info(self, video_id: str) -> PlaybackInfo | None:
        """The prefetched API answer, once, while its signed URLs are still fresh."""
        entry = self._infos.pop(video_id, None)
        if entry is None or time.monotonic() - entry[1] > self.cache.ttl_s:
            return None
        return entry[0]

    async def _prefetch(self, video_id: str, start_s: float) -> None:
        await asyncio.sleep(FOCUS_DELAY_S)
        try:
            info = await self.api.playback_info(video_id)
            self._infos[video_id] = (info, time.monotonic())
            mpd = await self._fetch(info.dash_url)
            if mpd is None:
                return
            presentation = parse_dash(mpd.text, info.dash_url)
            if not presentation.is_indexed:
                return  # SegmentBase: its first segment is not known before its index is read
            low = presentation.renditions[0]
            index = presentation.segment_at(start_s)
            audio = dash_audio_renditions(mpd.text, info.dash_url)
            # The picture starts when both the video and the audio stream have data.
            for rendition in (low, *list(audio.values())[:1]):
                if rendition.init is not None and rendition.init.url:
                    await self._fetch(rendition.init.url)
                first = rendition.segments[min(index, len(rendition.segments) - 1)]
                if first.url and first.byte_range is None:
                    await self._fetch(first.url)
            self.completed += 1
        except (ApiError, httpx.HTTPError, ValueError):
            return  # prefetch is an optimisation: Play fetches the normal way

    async def _fetch(self, url: str) -> httpx.Response | None:
        started = time.monotonic()
        response = await self.client.get(url)
        if response.status_code != 200:
            return None
        # Focus came back to a title still in the cache: keep its original transfer time.
        transfer = float(response.headers.get(TRANSFER_HEADER, time.monotonic() - started))
        self.cache.put(url, response, transfer)
        return response
