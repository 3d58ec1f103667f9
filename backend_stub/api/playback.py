"""Progress sync (idempotent, last-write-wins by reported_at) and continue-watching."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Annotated, Any, cast

from fastapi import APIRouter, HTTPException
from pydantic import AfterValidator, BeforeValidator, Field
from sqlalchemy import Table, or_, select
from sqlalchemy.dialects import postgresql, sqlite

import api_paths as paths
from backend_stub.api.fields import Name, RequestModel, Seconds, Token
from backend_stub.api.state import StateDep, UserDep
from backend_stub.models import Device, PlaybackProgress, PlaybackSession, Video

router = APIRouter()

# A title counts as finished (and leaves continue-watching) past this fraction.
FINISHED_FRACTION = 0.95


# How far ahead of the server's clock a report may be stamped: a device clock a little fast
# is tolerated, but a report from far in the future would win last-write-wins against every
# real report until then, freezing the viewer's position. Old stamps are harmless (any newer
# report beats them) and are accepted.
MAX_CLOCK_AHEAD_SECONDS = 24 * 3600.0


def _epoch(value: object) -> object:
    """ISO-8601 text with a timezone → epoch seconds; numbers go on to the float checks."""
    if not isinstance(value, str):
        return value
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"reported_at {value!r} is neither epoch seconds nor ISO-8601") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"reported_at {value!r} has no timezone (add Z or +00:00)")
    try:
        return parsed.timestamp()
    except OverflowError as exc:  # year 1 with a positive offset, for one
        raise ValueError(f"reported_at {value!r} is out of range") from exc


def _not_ahead(value: float) -> float:
    horizon = time.time() + MAX_CLOCK_AHEAD_SECONDS
    if value > horizon:
        raise ValueError(
            f"reported_at {value} is more than {MAX_CLOCK_AHEAD_SECONDS:.0f} s ahead of the "
            f"server's clock ({horizon - MAX_CLOCK_AHEAD_SECONDS:.0f}): check the device's clock"
        )
    return value


class ProgressReport(RequestModel):
    video_id: Token
    playback_session_id: Token
    offset_seconds: Seconds
    device_id: Name
    # Epoch seconds, or ISO-8601 with a timezone.
    reported_at: Annotated[
        float,
        BeforeValidator(_epoch),
        Field(ge=0, allow_inf_nan=False),
        AfterValidator(_not_ahead),
    ]


@router.post(paths.PLAYBACK_PROGRESS)
def report_progress(
    body: ProgressReport,
    user: UserDep,
    state: StateDep,
) -> dict[str, Any]:
    reported_at = body.reported_at
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
        # the WHERE and changes nothing, so replays and reordering are harmless. A stored
        # stamp past the horizon (+inf, PostgreSQL's NaN, which sorts above every number, or
        # a far-future time stored before reports were checked) loses to any valid report:
        # otherwise it would freeze the viewer's position for good.
        horizon = time.time() + MAX_CLOCK_AHEAD_SECONDS
        stmt = stmt.on_conflict_do_update(
            index_elements=[table.c.user_id, table.c.video_id],
            set_={
                "offset_seconds": stmt.excluded.offset_seconds,
                "reported_at": stmt.excluded.reported_at,
                "device_id": stmt.excluded.device_id,
                "playback_session_id": stmt.excluded.playback_session_id,
            },
            where=or_(
                stmt.excluded.reported_at > table.c.reported_at,
                table.c.reported_at > horizon,
            ),
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
