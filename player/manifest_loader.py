"""Fetch a manifest over HTTP and parse it with `abr.manifests` (HLS or DASH, by content)."""

from __future__ import annotations

import httpx

from abr.manifests import ManifestError, media_playlist_urls, parse_dash, parse_hls
from abr.presentation import Presentation


async def _get_text(client: httpx.AsyncClient, url: str) -> str:
    try:
        response = await client.get(url)
    except httpx.HTTPError as exc:
        raise ManifestError(url, f"cannot fetch: {exc.__class__.__name__}: {exc}") from exc
    if response.status_code >= 400:
        raise ManifestError(url, f"HTTP {response.status_code}")
    return response.text


async def load_presentation(client: httpx.AsyncClient, url: str) -> Presentation:
    text = await _get_text(client, url)
    if "<MPD" in text[:2000]:
        return parse_dash(text, str(httpx.URL(url)))
    media = {u: await _get_text(client, u) for u in media_playlist_urls(text, url)}
    return parse_hls(text, url, media)
