"""Manifest parsers: text in (the caller fetched it), `abr.presentation.Presentation` out."""

from abr.manifests.dash import parse_dash
from abr.manifests.errors import ManifestError
from abr.manifests.hls import media_playlist_urls, parse_hls
from abr.manifests.sabre_video import parse_sabre_video

__all__ = ["ManifestError", "media_playlist_urls", "parse_dash", "parse_hls", "parse_sabre_video"]
