"""Content keys: W3C ClearKey license (CENC) and the HLS AES-128 key endpoint.

Both want a JWT and a live playback session of that user for that title (created by the
manifest endpoint); anything else gets 401/403 and no key material.
"""

from __future__ import annotations

import base64
import json
import time
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Header, HTTPException, Response
from pydantic import Field
from sqlalchemy import select

import api_paths as paths
from backend_stub.api.fields import RequestModel, Token, TokenPath
from backend_stub.api.state import StateDep, UserDep
from backend_stub.auth import Principal
from backend_stub.models import PlaybackSession, Video

router = APIRouter()


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class LicenseRequest(RequestModel):
    # A key id is 16 bytes: 22 characters of base64url (24 padded).
    kids: list[Annotated[str, Field(max_length=24)]] = Field(min_length=1, max_length=16)
    type: Literal["temporary", "persistent-license"] = "temporary"
    playback_session_id: Token | None = None


def _live_session(
    state: StateDep, user: Principal, video_id: str | None, session_id: str | None
) -> PlaybackSession:
    now = time.time()
    with state.sessions() as s:
        if session_id:
            ps = s.get(PlaybackSession, session_id)
            if ps is None or ps.user_id != user.user_id:
                raise HTTPException(403, "playback session unknown or not yours")
        else:
            ps = s.scalars(
                select(PlaybackSession)
                .where(
                    PlaybackSession.user_id == user.user_id,
                    PlaybackSession.video_id == video_id,
                    PlaybackSession.expires_at > now,
                )
                .order_by(PlaybackSession.created_at.desc())
            ).first()
            if ps is None:
                raise HTTPException(
                    403, "no playback session for this title: call the manifest endpoint first"
                )
    if ps.expires_at <= now:
        raise HTTPException(403, "playback session expired")
    if video_id is not None and ps.video_id != video_id:
        raise HTTPException(403, "playback session is for another title")
    return ps


def _video_key(state: StateDep, video_id: str) -> tuple[bytes, bytes]:
    with state.sessions() as s:
        v = s.get(Video, video_id)
    if v is None or not v.drm_key_id or not v.drm_key:
        raise HTTPException(404, f"video {video_id} is not encrypted")
    return bytes.fromhex(v.drm_key_id), bytes.fromhex(v.drm_key)


@router.post(paths.CLEARKEY_LICENSE)
def clearkey_license(
    body: LicenseRequest,
    user: UserDep,
    state: StateDep,
    x_playback_session: Annotated[str | None, Header()] = None,
) -> Response:
    session_id = body.playback_session_id or x_playback_session
    if not session_id:
        raise HTTPException(
            403, "a ClearKey license needs playback_session_id (body) or X-Playback-Session"
        )
    ps = _live_session(state, user, None, session_id)
    kid, key = _video_key(state, ps.video_id)
    keys: list[dict[str, Any]] = []
    for requested in body.kids:
        try:
            raw = b64url_decode(requested)
        except ValueError as exc:
            raise HTTPException(422, f"kid {requested!r} is not base64url") from exc
        if raw != kid:
            raise HTTPException(
                403, f"kid {requested} does not belong to this playback session's title"
            )
        keys.append({"kty": "oct", "kid": b64url(kid), "k": b64url(key)})
    return Response(
        content=json.dumps({"keys": keys, "type": body.type}),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.get(paths.HLS_KEY)
def hls_key(
    video_id: TokenPath,
    user: UserDep,
    state: StateDep,
    x_playback_session: Annotated[str | None, Header()] = None,
) -> Response:
    _live_session(state, user, video_id, x_playback_session)
    _kid, key = _video_key(state, video_id)
    return Response(
        content=key, media_type="application/octet-stream", headers={"Cache-Control": "no-store"}
    )
