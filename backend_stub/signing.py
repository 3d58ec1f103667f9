"""HMAC-SHA256 signed, expiring URL tokens scoped to one title's directory.

The token sits in a path prefix, `/t/{token}/media/{video_id}/…`, so every relative link in
a playlist (`r0/seg-00001.m4s`) resolves under the same prefix: playlists need no
rewriting, and one token covers the whole title but no other title.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass

_PATH = re.compile(r"^/t/(?P<token>[^/]+)/(?P<key>media/(?P<video_id>[^/]+)/[^?#]+)")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str
    video_id: str = ""
    object_key: str = ""
    expires_at: int = 0


def _mac(secret: str, video_id: str, expires_at: int) -> str:
    digest = hmac.new(
        secret.encode(), f"media/{video_id}/|{expires_at}".encode(), hashlib.sha256
    ).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def make_token(secret: str, video_id: str, expires_at: int) -> str:
    return f"{expires_at}.{_mac(secret, video_id, expires_at)}"


def signed_path(
    secret: str, video_id: str, filename: str, ttl_seconds: int, now: float | None = None
) -> str:
    expires_at = int((now if now is not None else time.time()) + ttl_seconds)
    return f"/t/{make_token(secret, video_id, expires_at)}/media/{video_id}/{filename}"


def verify_path(secret: str, path: str, now: float | None = None) -> Verdict:
    """Check a request path; never touches the object store (a forged URL costs no disk)."""
    m = _PATH.match(path)
    if m is None:
        return Verdict(False, "path is not /t/{token}/media/{video_id}/…")
    key = m.group("key")
    if "/../" in f"/{key}/" or "/./" in f"/{key}/":
        return Verdict(False, "path contains '.' or '..' segments")
    exp_text, _, mac = m.group("token").partition(".")
    if not exp_text.isdigit() or not mac:
        return Verdict(False, "token is not EXPIRY.SIGNATURE")
    expires_at = int(exp_text)
    video_id = m.group("video_id")
    if not hmac.compare_digest(mac, _mac(secret, video_id, expires_at)):
        return Verdict(False, "bad signature (forged, or signed for another title)", video_id)
    if expires_at <= (now if now is not None else time.time()):
        return Verdict(False, "token expired", video_id)
    return Verdict(True, "ok", video_id, key, expires_at)
