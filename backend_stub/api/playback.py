"""Progress sync (idempotent, last-write-wins by reported_at) and continue-watching."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any, cast

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field, field_validator
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite

import api_paths as paths
from backend_stub.api.state import StateDep, UserDep
from backend_stub.models import Device, PlaybackProgress, PlaybackSession, Video

router = APIRouter()

# A title counts as finished (and leaves continue-watching) past this fraction.
FINISHED_FRACTION = 0.95


class ProgressReport(BaseModel):
    video_id: str
    playback_session_id: str
    offset_seconds: float = Field(ge=0)
    device_id: str = Field(min_length=1, max_length=128)
    reported_at: float | str  # epoch seconds or ISO-8601 with a timezone

    @field_validator("reported_at")
    @classmethod
    def _to_epoch(cls, value: float | str) -> float:
        if isinstance(value, int | float):
            return float(value)
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(
                f"reported_at {value!r} is neither epoch seconds nor ISO-8601"
            ) from exc
        if parsed.tzinfo is None:
            raise ValueError(f"reported_at {value!r} has no timezone (add Z or +00:00)")
        return parsed.timestamp()


@router.post(paths.PLAYBACK_PROGRESS)
def report_progress(
    body: ProgressReport,
    user: UserDep,
    state: StateDep,
) -> dict[str, Any]:
    reported_at = float(body.reported_at)
    with state.sessions.begin() as s:
        session = s.get(PlaybackSession, body.playback_session_id)
        if session is None:
            raise HTTPException(404, f"no playback session {body.playback_session_id!r}")
        if session.user_id != user.user_id:
            # Another user's session: never let it touch (or reveal) their progress.
            raise HTTPException(403, "playback session belongs to another user")
        if session.video_id != body.video_id:
            raise HTTPException(
                422, f"playback session is for video {session.video_id}, not {body.video_id}"
            )
        table = cast(Table, PlaybackProgress.__table__)
        dialect = s.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        stmt = insert(table).values(
            user_id=user.user_id,
            video_id=body.video_id,
            offset_seconds=body.offset_seconds,
            reported_at=reported_at,
            device_id=body.device_id,
            playback_session_id=body.playback_session_id,
        )
        # One atomic statement: a late report with an older reported_at matches no row in
        # the WHERE and changes nothing, so replays and reordering are harmless.
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.video_id],
            set_={
                "offset_seconds": stmt.excluded.offset_seconds,
                "reported_at": stmt.excluded.reported_at,
                "device_id": stmt.excluded.device_id,
                "playback_session_id": stmt.excluded.playback_session_id,
            },
            where=stmt.excluded.reported_at > table.c.reported_at,
        )
        s.execute(stmt)
        _touch_device(s, user.user_id, body.device_id, session.device_type)
        row = s.get(PlaybackProgress, (user.user_id, body.video_id))
        assert row is not None
        s.refresh(row)
        return {
            "video_id": body.video_id,
            "offset_seconds": row.offset_seconds,
            "reported_at": row.reported_at,
            "applied": row.reported_at == reported_at and row.offset_seconds == body.offset_seconds,
        }


def _touch_device(s: Any, user_id: int, device_id: str, device_type: str) -> None:
    device = s.scalar(
        select(Device).where(Device.user_id == user_id, Device.device_id == device_id)
    )
    if device is None:
        s.add(
            Device(
                user_id=user_id, device_id=device_id, device_type=device_type, last_seen=time.time()
            )
        )
    else:
        device.last_seen = time.time()


@router.get(paths.CONTINUE_WATCHING)
def continue_watching(
    user: UserDep,
    state: StateDep,
) -> dict[str, Any]:
    with state.sessions() as s:
        rows = s.execute(
            select(PlaybackProgress, Video)
            .join(Video, Video.id == PlaybackProgress.video_id)
            .where(PlaybackProgress.user_id == user.user_id)
            .order_by(PlaybackProgress.reported_at.desc())
        ).all()
    items = []
    for progress, video in rows:
        duration = video.duration_seconds or 0
        if duration and progress.offset_seconds >= duration * FINISHED_FRACTION:
            continue
        items.append(
            {
                "video_id": video.id,
                "title": video.title,
                "offset_seconds": progress.offset_seconds,
                "duration_seconds": video.duration_seconds,
                "progress": round(progress.offset_seconds / duration, 4) if duration else None,
                "reported_at": progress.reported_at,
                "device_id": progress.device_id,
            }
        )
    return {"items": items}
