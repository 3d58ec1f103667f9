"""HMAC-SHA256 signed, expiring URL tokens scoped to one title's directory.

The token sits in a path prefix, `/t/{token}/media/{video_id}/…`, so every relative link in
a playlist (`r0/seg-00001.m4s`) resolves under the same prefix: playlists need no
rewriting, and one token covers the whole title but no other title.

`verify_path` takes the path as the client sent it and decides on its decoded form: the
edge's and the shield's validator (fed nginx's raw `$request_uri`) and the origin's media
route (fed the raw request path) all call it, so what one tier passes the others pass and
name the same object. The path is percent-decoded exactly once; after that every name must
be letters, digits, '.', '_' or '-' and not start with '.', which refuses '.' and '..' parts
however they were spelled (`%2e%2e`, `..%2f`), empty parts (`//`), backslashes, `;`
parameters, control and non-ASCII bytes, and a '%' left by double encoding. Every object
the transcoder publishes has such a name.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from dataclasses import dataclass
from urllib.parse import unquote_to_bytes

_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*")
# Twelve digits is past the year 33000; a longer number is refused before int() sees it.
_TOKEN = re.compile(r"(?P<expires>[0-9]{1,12})\.(?P<mac>[A-Za-z0-9_-]+)")
_SHAPE = "path is not /t/{token}/media/{video_id}/{name}"


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


def verify_path(secret: str, raw_path: str, now: float | None = None) -> Verdict:
    """Check a request path as sent (percent-encoded, query allowed); never touches the
    object store, so a forged URL costs no disk."""
    try:
        path = unquote_to_bytes(raw_path.split("?", 1)[0]).decode("ascii")
    except UnicodeDecodeError:
        return Verdict(False, "path has non-ASCII bytes once percent-decoded")
    parts = path.split("/")
    if len(parts) < 6 or parts[0] != "" or parts[1] != "t" or parts[3] != "media":
        return Verdict(False, _SHAPE)
    token, video_id, names = parts[2], parts[4], parts[5:]
    for where, name in (("video id", video_id), *(("name", n) for n in names)):
        if _NAME.fullmatch(name) is None:
            return Verdict(
                False,
                f"{where} {name!r} in the decoded path is not allowed (letters, digits, "
                "'.', '_', '-', not starting with '.')",
            )
    m = _TOKEN.fullmatch(token)
    if m is None:
        return Verdict(False, "token is not EXPIRY.SIGNATURE")
    expires_at = int(m.group("expires"))
    mac = m.group("mac")
    key = "/".join(("media", video_id, *names))
    if not hmac.compare_digest(mac, _mac(secret, video_id, expires_at)):
        return Verdict(False, "bad signature (forged, or signed for another title)", video_id)
    if expires_at <= (now if now is not None else time.time()):
        return Verdict(False, "token expired", video_id)
    return Verdict(True, "ok", video_id, key, expires_at)
