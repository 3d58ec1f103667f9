"""Fetch a manifest over HTTP and parse it with `abr.manifests` (HLS or DASH, by content).

An on-demand DASH MPD (SegmentBase) comes back unindexed: the session fetches the video's
indexes itself (FetchIndex). The separate audio tracks are the player's own business, so
their indexes are fetched here.

A live MPD is parsed against the caller's UTC now (`now_utc_s`, asked right after the fetch):
which of its segments exist depends on it. A live HLS master's media playlists are fetched
again on every load; they are what slides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

from abr.manifests import (
    ContentProtection,
    HlsKey,
    ManifestError,
    dash_audio_renditions,
    dash_content_protection,
    hls_audio_rendition,
    hls_segment_keys,
    indexed_rendition,
    media_playlist_urls,
    parse_dash,
    parse_hls,
)
from abr.presentation import Presentation, Rendition


@dataclass(frozen=True)
class LoadedManifest:
    presentation: Presentation
    # The separate audio tracks' segments, by `presentation.audio_tracks[i].id`.
    audio: dict[str, Rendition] = field(default_factory=dict)
    # DASH ContentProtection per video rendition id (empty when clear).
    protection: dict[str, tuple[ContentProtection, ...]] = field(default_factory=dict)
    # HLS: per rendition id, the EXT-X-KEY in force for each segment (None: clear).
    hls_keys: dict[str, tuple[HlsKey | None, ...]] = field(default_factory=dict)
    # The manifest server's clock less ours (its response's Date header against the caller's
    # UTC now on arrival; +-1 s, a Date having whole seconds), when both are known.
    server_clock_skew_s: float | None = None


class ManifestFetchError(ManifestError):
    """The manifest could not be fetched; `status` is the HTTP status (None: no answer)."""

    def __init__(self, source: str, message: str, status: int | None = None) -> None:
        super().__init__(source, message)
        self.status = status


async def _get(client: httpx.AsyncClient, url: str) -> httpx.Response:
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        raise ManifestFetchError(url, f"cannot fetch: {exc.__class__.__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise ManifestFetchError(url, f"HTTP {response.status_code}", response.status_code)
    return response


async def _get_text(client: httpx.AsyncClient, url: str) -> str:
    return (await _get(client, url)).text


def _date_utc_s(response: httpx.Response) -> float | None:
    header = response.headers.get("date")
    if header is None:
        return None
    try:
        return parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return None  # a malformed Date only costs the skew check


async def _indexed(client: httpx.AsyncClient, rendition: Rendition, source: str) -> Rendition:
    """An audio rendition with its segments: its sidx fetched and read (if it has one)."""
    index = rendition.index
    if rendition.segments or index is None or index.byte_range is None:
        return rendition
    first, last = index.byte_range
    url = str(index.url)
    try:
        response = await client.get(url, headers={"Range": f"bytes={first}-{last}"})
    except httpx.HTTPError as exc:
        raise ManifestError(
            url, f"cannot fetch the index: {exc.__class__.__name__}: {exc}"
        ) from exc
    if response.status_code != 206:
        raise ManifestError(url, f"HTTP {response.status_code} for the index bytes {first}-{last}")
    return indexed_rendition(rendition, response.content, source)[0]


async def load_manifest(
    client: httpx.AsyncClient, url: str, now_utc_s: Callable[[], float] | None = None
) -> LoadedManifest:
    response = await _get(client, url)
    text = response.text
    if "<MPD" in text[:2000]:
        base = str(httpx.URL(url))
        now = None if now_utc_s is None else now_utc_s()
        date = _date_utc_s(response)
        # The Date is truncated to the second: its middle is the best guess.
        skew = None if now is None or date is None else date + 0.5 - now
        presentation = parse_dash(text, base, now)
        dash_audio = {
            track: await _indexed(client, rendition, base)
            for track, rendition in dash_audio_renditions(text, base, now).items()
        }
        return LoadedManifest(
            presentation,
            dash_audio,
            dash_content_protection(text, base, now),
            server_clock_skew_s=skew,
        )
    media = {u: await _get_text(client, u) for u in media_playlist_urls(text, url)}
    presentation = parse_hls(text, url, media)
    tracks = presentation.audio_tracks
    audio: dict[str, Rendition] = {}
    # An audio track without a URI is muxed into the video: then the separate ones are
    # alternatives the player does not follow (it would play two languages at once).
    if tracks and all(t.url for t in tracks):
        for track in tracks:
            assert track.url is not None
            playlist = await _get_text(client, track.url)
            audio[track.id] = hls_audio_rendition(track, playlist, presentation)
    return LoadedManifest(presentation, audio, hls_keys=hls_segment_keys(text, url, media))
