"""Live channels as catalog rows: one `videos` row per channel (id `live-NAME`), so the
catalog lists them and the manifest endpoint serves them under the same contract as titles.
STARTING until the first segments of every track are published, then READY; OFFLINE when
`serve` stops or no longer runs the channel. An encrypted channel's content key lives in its
row like a title's (made once, kept across restarts of `serve`), so the licence and HLS key
endpoints serve it unchanged."""

from __future__ import annotations

import secrets
import time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend_stub.config import LIVE_ID_PREFIX
from backend_stub.live.encoder import ChannelSpec
from backend_stub.live.encrypt import ChannelKey
from backend_stub.models import Video


def live_media(segment_seconds: int, dvr_seconds: int) -> dict[str, Any]:
    return {"live": {"segment_seconds": segment_seconds, "dvr_seconds": dvr_seconds}}


def register_channels(
    sessions: sessionmaker[Session],
    specs: list[ChannelSpec],
    segment_seconds: int,
    dvr_seconds: int,
    scheme: str | None = None,
) -> dict[str, ChannelKey]:
    """Mark the channels STARTING; with a protection scheme, each one's content key (made
    when the channel has none yet), by video id."""
    now = time.time()
    keys: dict[str, ChannelKey] = {}
    wanted = {spec.video_id: spec for spec in specs}
    with sessions.begin() as s:
        for row in s.scalars(select(Video).where(Video.id.startswith(LIVE_ID_PREFIX))):
            if row.id not in wanted:
                row.status, row.updated_at = "OFFLINE", now
        for vid, spec in wanted.items():
            existing = s.get(Video, vid)
            if existing is None:
                row = Video(
                    id=vid,
                    title=spec.name,
                    source_key="",
                    genre="live",
                    tags=["live"],
                    options={},
                    created_at=now,
                )
                s.add(row)
            else:
                row = existing
            row.status, row.error, row.duration_seconds = "STARTING", None, None
            row.media = live_media(segment_seconds, dvr_seconds)
            if scheme is not None:
                if not row.drm_key_id or not row.drm_key:
                    row.drm_key_id, row.drm_key = secrets.token_hex(16), secrets.token_hex(16)
                row.media["encryption"] = {"cmaf": scheme}
                keys[vid] = ChannelKey(row.drm_key_id, row.drm_key, scheme)
            row.updated_at = now
    return keys


def mark_ready(sessions: sessionmaker[Session], video_id: str, rungs: list[dict[str, int]]) -> None:
    with sessions.begin() as s:
        row = s.get(Video, video_id)
        if row is not None:
            row.media = {**(row.media or {}), "rungs": rungs}
            row.status, row.updated_at = "READY", time.time()


def set_poster(sessions: sessionmaker[Session], video_id: str, poster: str) -> None:
    """The channel's newest still becomes its catalog picture (a name in its folder)."""
    with sessions.begin() as s:
        row = s.get(Video, video_id)
        if row is not None:
            row.media = {**(row.media or {}), "poster": poster}
            row.updated_at = time.time()


def mark_offline(sessions: sessionmaker[Session], video_ids: list[str]) -> None:
    with sessions.begin() as s:
        for vid in video_ids:
            row = s.get(Video, vid)
            if row is not None:
                row.status, row.updated_at = "OFFLINE", time.time()
