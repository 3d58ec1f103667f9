"""Catalog (`GET /api/v1/videos`), one title, and the playback manifest endpoint."""

from __future__ import annotations

import secrets
import time
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Query, Request
from sqlalchemy import select

import api_paths as paths
from backend_stub.api.drm import b64url as drm_b64url
from backend_stub.api.fields import SearchText, TokenPath
from backend_stub.api.state import AppState, StateDep, UserDep
from backend_stub.models import PlaybackProgress, PlaybackSession, Video
from backend_stub.recommend import Item, recommend
from backend_stub.signing import signed_path

router = APIRouter()


def media_url(state: AppState, request: Request, video_id: str, filename: str) -> str:
    """A signed URL through the edge (or straight at the origin when no edge is configured;
    the origin checks the same signature)."""
    base = state.config.edge_url or str(request.base_url).rstrip("/")
    ttl = state.config.signed_url_ttl_seconds
    return base + signed_path(state.config.url_signing_secret, video_id, filename, ttl)


def live_fields(media: dict[str, Any]) -> dict[str, Any]:
    """`live` for every entry; a channel's also what a player needs to follow it."""
    live = media.get("live")
    if not live:
        return {"live": False}
    return {
        "live": True,
        "target_segment_seconds": live["segment_seconds"],
        "dvr_seconds": live["dvr_seconds"],
    }


def video_summary(state: AppState, request: Request, v: Video) -> dict[str, Any]:
    media = v.media or {}
    poster = media.get("poster")
    return {
        **live_fields(media),
        "video_id": v.id,
        "title": v.title,
        "status": v.status,
        "error": v.error,
        "duration_seconds": v.duration_seconds,
        "genre": v.genre,
        "tags": list(v.tags or []),
        "poster_url": media_url(state, request, v.id, poster)
        if poster and v.status == "READY"
        else None,
        "renditions": [
            {"height": r["height"], "width": r["width"], "bitrate_kbps": r["bitrate_kbps"]}
            for r in media.get("rungs", [])
        ],
        "intro": {"start_seconds": v.intro_start, "end_seconds": v.intro_end}
        if v.intro_start is not None and v.intro_end is not None
        else None,
    }


@router.get(paths.VIDEOS)
def list_videos(
    request: Request,
    state: StateDep,
    q: SearchText = "",
) -> dict[str, Any]:
    stmt = select(Video).order_by(Video.created_at)
    if q.strip():
        stmt = stmt.where(Video.title.icontains(q.strip(), autoescape=True))
    with state.sessions() as s:
        videos = s.scalars(stmt).all()
    return {"videos": [video_summary(state, request, v) for v in videos]}


@router.get(paths.VIDEO)
def get_video(video_id: TokenPath, request: Request, state: StateDep) -> dict[str, Any]:
    with state.sessions() as s:
        v = s.get(Video, video_id)
    if v is None:
        raise HTTPException(404, f"no video {video_id!r}")
    return video_summary(state, request, v)


@router.get(paths.VIDEO_MANIFEST)
def manifest(
    video_id: TokenPath,
    request: Request,
    user: UserDep,
    state: StateDep,
    x_device_type: Annotated[str | None, Header()] = None,
) -> dict[str, Any]:
    caps = state.config.device_caps
    device = (x_device_type or state.config.default_device_type).strip().lower()
    if device not in caps:
        raise HTTPException(
            400, f"unknown X-Device-Type {x_device_type!r}; expected one of {sorted(caps)}"
        )
    with state.sessions() as s:
        v = s.get(Video, video_id)
    if v is None:
        raise HTTPException(404, f"no video {video_id!r}")
    if v.status != "READY":
        raise HTTPException(
            409, f"video {video_id} is {v.status}, not READY" + (f": {v.error}" if v.error else "")
        )
    media = v.media or {}
    rungs = media.get("rungs", [])
    cap = caps[device]
    allowed = [r for r in rungs if r["height"] <= cap] or rungs[:1]
    capped = len(allowed) < len(rungs)
    top = max(r["height"] for r in allowed)
    now = time.time()
    session_id = secrets.token_urlsafe(16)
    with state.sessions.begin() as s:
        s.add(
            PlaybackSession(
                id=session_id,
                user_id=user.user_id,
                video_id=v.id,
                device_type=device,
                created_at=now,
                expires_at=now + state.config.signed_url_ttl_seconds,
            )
        )

    def url(name: str) -> str:
        return media_url(state, request, v.id, name)

    suffix = f"_{top}p" if capped else ""
    result: dict[str, Any] = {
        **live_fields(media),
        "video_id": v.id,
        "title": v.title,
        "playback_session_id": session_id,
        "duration_seconds": v.duration_seconds,
        "device_type": device,
        "max_height": top,
        "master_playlist_url": url(f"master{suffix}.m3u8"),
        "dash_manifest_url": url(f"manifest{suffix}.mpd"),
        "renditions": [
            {"height": r["height"], "width": r["width"], "bitrate_kbps": r["bitrate_kbps"]}
            for r in allowed
        ],
        "subtitles": [
            {"language": sub["language"], "url": url(sub["path"])}
            for sub in media.get("subtitles", [])
        ],
        "audio_tracks": [
            {"language": t["language"], "name": t["name"], "default": t["default"]}
            for t in media.get("audio_tracks", [])
        ],
        "intro": {"start_seconds": v.intro_start, "end_seconds": v.intro_end}
        if v.intro_start is not None and v.intro_end is not None
        else None,
        "poster_url": url(media["poster"]) if media.get("poster") else None,
        "thumbnails_url": url(media["thumbnails_vtt"]) if media.get("thumbnails_vtt") else None,
    }
    if "hls-ts" in media.get("packagings", []):
        result["hls_ts_playlist_url"] = url(f"ts/master{suffix}.m3u8")
    encryption = media.get("encryption") or {}
    if encryption and v.drm_key_id:
        api = state.config.edge_url or str(request.base_url).rstrip("/")
        result["drm"] = {
            "encryption": encryption,  # {"cmaf": "cenc", "hls-ts": "aes-128"}
            "key_system": "org.w3.clearkey",
            "license_url": f"{api}{paths.CLEARKEY_LICENSE}",
            "key_id": drm_b64url(bytes.fromhex(v.drm_key_id)),
        }
    return result


@router.get(paths.RECOMMENDATIONS)
def recommendations(
    user: UserDep, state: StateDep, limit: Annotated[int, Query(ge=1, le=100)] = 10
) -> dict[str, Any]:
    with state.sessions() as s:
        videos = s.scalars(select(Video).where(Video.status == "READY")).all()
        rows = s.execute(select(PlaybackProgress.user_id, PlaybackProgress.video_id)).all()
    history: dict[int, set[str]] = {}
    for uid, vid in rows:
        history.setdefault(uid, set()).add(vid)
    items = [Item(v.id, v.title, v.genre or "", frozenset(v.tags or [])) for v in videos]
    recs = recommend(user.user_id, items, history, limit)
    return {
        "items": [
            {"video_id": r.video_id, "title": r.title, "score": r.score, "reasons": r.reasons}
            for r in recs
        ]
    }
