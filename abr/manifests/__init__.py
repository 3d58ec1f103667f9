"""Manifest parsers: text in (the caller fetched it), `abr.presentation.Presentation` out."""

from abr.manifests.errors import ManifestError
from abr.manifests.sabre_video import parse_sabre_video

__all__ = ["ManifestError", "parse_sabre_video"]
