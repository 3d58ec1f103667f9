"""Encryption metadata the `Presentation` model has no field for yet.

`Rendition`/`SegmentRef` cannot carry keys today, so rather than dropping them silently the
parsers expose them through separate functions (`hls_segment_keys`, `dash_content_protection`),
keyed by `Rendition.id`. A player that decrypts needs them; the simulator does not.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class HlsKey:
    """One EXT-X-KEY in force for a segment (METHOD=NONE is represented by no key at all)."""

    method: str  # "AES-128", "SAMPLE-AES", "SAMPLE-AES-CTR", ...
    uri: str | None  # absolute key URI (skd:// etc. are left as they are)
    # The 128-bit IV as "0x" + 32 hex digits: the IV attribute, or for AES-128 without one the
    # segment's media sequence number, as RFC 8216 section 5.2 says. None for other methods.
    iv: str | None
    key_format: str | None = None  # KEYFORMAT; None means "identity"
    key_format_versions: str | None = None


@dataclass(frozen=True, slots=True)
class ContentProtection:
    """One DASH ContentProtection descriptor that applies to a Representation."""

    scheme_id_uri: str  # "urn:mpeg:dash:mp4protection:2011" or a DRM system's "urn:uuid:..."
    value: str | None = None  # e.g. "cenc", "cbcs", "ClearKey1.0"
    default_kid: str | None = None  # cenc:default_KID
    pssh: str | None = None  # cenc:pssh, base64
    license_url: str | None = None  # absolute ClearKey/DASH-IF Laurl, when given
