"""Signed media serving, the edge's auth_request validator, and the origin fetch counter."""

from __future__ import annotations

import re
import time

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import FileResponse, PlainTextResponse

import api_paths as paths
from backend_stub.api.state import StateDep
from backend_stub.errors import StoreKeyError
from backend_stub.signing import verify_path
from backend_stub.store import check_key
from backend_stub.transcode import cap_master_playlist, cap_mpd

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


@router.get(paths.EDGE_VALIDATE)
def edge_validate(request: Request, state: StateDep) -> Response:
    """auth_request target: the edge sends the client's URI in X-Original-URI."""
    uri = request.headers.get("x-original-uri", "")
    verdict = verify_path(state.config.url_signing_secret, uri.split("?", 1)[0])
    if not verdict.ok:
        return PlainTextResponse(
            verdict.reason, status_code=403, headers={"Cache-Control": "no-store"}
        )
    # The edge may cache this decision briefly, never past the token's expiry.
    ttl = max(0, min(10, verdict.expires_at - int(time.time()) - 1))
    return Response(
        status_code=204 if ttl == 0 else 200,
        headers={"X-Accel-Expires": str(ttl), "Cache-Control": f"max-age={ttl}"},
    )


@router.api_route("/t/{token}/media/{video_id}/{path:path}", methods=["GET", "HEAD"])
def serve_media(
    token: str, video_id: str, path: str, request: Request, state: StateDep
) -> Response:
    verdict = verify_path(state.config.url_signing_secret, request.url.path)
    if not verdict.ok:
        raise HTTPException(403, verdict.reason)
    key = verdict.object_key
    try:
        check_key(key)
    except StoreKeyError as exc:
        raise HTTPException(403, str(exc)) from exc
    if request.method == "GET":
        state.fetches.hit(key)
    headers = {"Cache-Control": cache_control(key)}
    media_type = _TYPES.get("." + key.rsplit(".", 1)[-1], "application/octet-stream")
    file = state.store.local_path(key)
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
    capped = _CAPPED.match(path)
    if capped:
        # Device-capped variant of the master playlist / MPD, derived on request.
        base_key = f"media/{video_id}/{capped['dir']}{capped['base']}.{capped['ext']}"
        try:
            text = state.store.get_bytes(base_key).decode()
        except StoreKeyError:
            raise HTTPException(404, f"no object {key}") from None
        height = int(capped["h"])
        body = (
            cap_master_playlist(text, height) if capped["ext"] == "m3u8" else cap_mpd(text, height)
        )
        return Response(body, media_type=media_type, headers=headers)
    raise HTTPException(404, f"no object {key}")


@router.get(paths.DEBUG_ORIGIN_FETCHES)
def origin_fetches(state: StateDep, prefix: str = "") -> dict[str, object]:
    counts = {k: v for k, v in state.fetches.snapshot().items() if k.startswith(prefix)}
    return {"fetches": counts, "total": sum(counts.values())}
