"""Signed media serving, the nginx tiers' auth_request validator, and the origin fetch counter."""

from __future__ import annotations

import contextlib
import re
import time

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse

import api_paths as paths
from backend_stub.api.state import AppState, StateDep
from backend_stub.errors import StoreKeyError
from backend_stub.media.capping import cap_master_playlist, cap_mpd
from backend_stub.signing import verify_path

router = APIRouter()

IMMUTABLE = "public, max-age=31536000, immutable"
PLAYLIST = "public, max-age=60"
_CAPPED = re.compile(
    r"^(?P<dir>(?:.*/)?)(?P<base>master|manifest)_(?P<h>\d{3,4})p\.(?P<ext>m3u8|mpd)$"
)
_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".mpd": "application/dash+xml",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".ts": "video/mp2t",
    ".vtt": "text/vtt",
    ".jpg": "image/jpeg",
}


def cache_control(key: str) -> str:
    # Segments never change under a name (a re-transcode replaces the whole title), so
    # cache them forever; playlists and text tracks may, so one minute.
    return PLAYLIST if key.endswith((".m3u8", ".mpd", ".vtt")) else IMMUTABLE


def live_cache_headers(segment_seconds: int, now: float, published_at: float) -> dict[str, str]:
    """How long the tiers may keep a live playlist/MPD written at `published_at`.

    The channel rewrites it once per segment, so the next version is due at published_at +
    segment_seconds: the copy stays fresh until the end of that second, and every tier
    fetches each version once (a copy at most a second older than the origin's). Once that
    is past (a late or stopped encoder), until the end of the last whole second at most half
    a segment from now. Absolute (X-Accel-Expires: @epoch), and passed on by the shield, so
    the edge's copy expires with the shield's instead of adding its own age to it; nginx
    keeps an entry fresh through the whole second its expiry names."""
    due = published_at + segment_seconds
    expires = int(due) if due > now else int(now + segment_seconds / 2) - 1
    return {
        "Cache-Control": f"public, max-age={segment_seconds // 2}",
        "X-Accel-Expires": f"@{expires}",
    }


def _live_playlist(key: str) -> bool:
    return key.endswith((".m3u8", ".mpd"))


@router.get(paths.EDGE_VALIDATE)
def edge_validate(request: Request, state: StateDep) -> Response:
    """auth_request target of both nginx tiers: they send the client's raw URI in
    X-Original-URI. Only 2xx/403 answers: nginx turns anything else into a 500."""
    verdict = verify_path(
        state.config.url_signing_secret, request.headers.get("x-original-uri", "")
    )
    if not verdict.ok:
        return PlainTextResponse(
            verdict.reason, status_code=403, headers={"Cache-Control": "no-store"}
        )
    # The tier may cache this decision briefly, never past the token's expiry.
    ttl = max(0, min(10, verdict.expires_at - int(time.time()) - 1))
    return Response(
        status_code=204 if ttl == 0 else 200,
        headers={"X-Accel-Expires": str(ttl), "Cache-Control": f"max-age={ttl}"},
    )


@router.api_route("/t/{token}/media/{video_id}/{path:path}", methods=["GET", "HEAD"])
def serve_media(request: Request, state: StateDep) -> Response:
    # Verified on the raw path, as the tiers' validator saw it: the route's decoded path
    # would let an encoded '/' mean one thing there and another here.
    raw_path: bytes = request.scope["raw_path"]
    verdict = verify_path(state.config.url_signing_secret, raw_path.decode("latin-1"))
    if not verdict.ok:
        raise HTTPException(403, verdict.reason)
    live = verdict.video_id in state.config.live_video_ids
    response = _object(state, verdict.video_id, verdict.object_key, live)
    if request.method == "GET":
        if response is None:
            state.fetches.miss()
        else:
            state.fetches.hit(verdict.object_key)
    if response is None:
        # A live segment a client asks for early exists a moment later: do not let the
        # tiers keep the 404 for their usual 10 s.
        headers = {"Cache-Control": "no-store"} if live else None
        raise HTTPException(404, f"no object {verdict.object_key}", headers=headers)
    return response


def _object(state: AppState, video_id: str, key: str, live: bool) -> Response | None:
    """The object's response, or None when the store has no such object."""
    headers = {"Cache-Control": cache_control(key)}
    media_type = _TYPES.get("." + key.rsplit(".", 1)[-1], "application/octet-stream")
    file = state.store.local_path(key)
    if live and _live_playlist(key):
        if file is not None:
            # Whole, not a FileResponse: a 304 to the tiers' revalidation would drop
            # X-Accel-Expires, and these files are a few KiB.
            with contextlib.suppress(FileNotFoundError):  # the channel just stopped
                published_at = file.stat().st_mtime
                headers = live_cache_headers(
                    state.config.live_segment_seconds, time.time(), published_at
                )
                return Response(file.read_bytes(), media_type=media_type, headers=headers)
            return None
        # No file to tell when it was written: the half-segment rule.
        headers = live_cache_headers(state.config.live_segment_seconds, time.time(), 0.0)
    if file is not None:
        if file.is_file():
            return FileResponse(file, media_type=media_type, headers=headers)
    else:
        # A remote store (S3): the origin reads the object and the two nginx tiers cache it,
        # so the store sees about one GET per object however many viewers there are.
        try:
            return Response(state.store.get_bytes(key), media_type=media_type, headers=headers)
        except StoreKeyError:
            pass  # perhaps a device-capped variant, derived below
    capped = _CAPPED.match(key.removeprefix(f"media/{video_id}/"))
    if capped is None:
        return None
    # Device-capped variant of the master playlist / MPD, derived on request.
    base_key = f"media/{video_id}/{capped['dir']}{capped['base']}.{capped['ext']}"
    try:
        text = state.store.get_bytes(base_key).decode()
    except StoreKeyError:
        return None
    height = int(capped["h"])
    body = cap_master_playlist(text, height) if capped["ext"] == "m3u8" else cap_mpd(text, height)
    return Response(body, media_type=media_type, headers=headers)


@router.get(paths.DEBUG_ORIGIN_FETCHES)
def origin_fetches(state: StateDep, prefix: str = "") -> dict[str, object]:
    """Off unless `serve --debug-endpoints`: it names every title's objects."""
    if not state.config.debug_endpoints:
        raise HTTPException(
            404, "debug endpoints are off (streamlab serve --debug-endpoints turns them on)"
        )
    snapshot = state.fetches.snapshot()
    counts = {k: v for k, v in snapshot.counts.items() if k.startswith(prefix)}
    return {
        "fetches": counts,
        "total": sum(counts.values()),
        "missing": snapshot.missing,
        "untracked": snapshot.untracked,
    }
