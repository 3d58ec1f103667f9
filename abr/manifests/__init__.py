"""Manifest parsers: text in (the caller fetched it), `abr.presentation.Presentation` out.

Sans-I/O: nothing here opens a file or a socket. HLS needs two steps (the master names the
media playlists to fetch): `media_playlist_urls`, then `parse_hls`. So does an on-demand DASH
MPD (SegmentBase): `parse_dash`, then each rendition's sidx range, then `with_indexes`. Every failure is a
`ManifestError` (a ValueError) whose message starts with the source it came from.
"""

from abr.manifests.dash import dash_audio_renditions, dash_content_protection, parse_dash
from abr.manifests.errors import ManifestError
from abr.manifests.hls import (
    hls_audio_rendition,
    hls_segment_keys,
    media_playlist_urls,
    parse_hls,
)
from abr.manifests.indexed import indexed_rendition, with_indexes
from abr.manifests.live import Refresh, next_reload_delay_s, refreshed
from abr.manifests.protection import ContentProtection, HlsKey
from abr.manifests.sabre_video import parse_sabre_video

__all__ = [
    "ContentProtection",
    "HlsKey",
    "ManifestError",
    "Refresh",
    "dash_audio_renditions",
    "dash_content_protection",
    "hls_audio_rendition",
    "hls_segment_keys",
    "indexed_rendition",
    "media_playlist_urls",
    "next_reload_delay_s",
    "parse_dash",
    "parse_hls",
    "parse_sabre_video",
    "refreshed",
    "with_indexes",
]
