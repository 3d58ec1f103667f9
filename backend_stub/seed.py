"""`serve --demo-catalog`: a demo user and a few ffmpeg-generated titles with tone."""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from backend_stub.auth import create_user
from backend_stub.config import BackendConfig
from backend_stub.media.ffmpeg import synthesize_clip
from backend_stub.models import Video
from backend_stub.queue import JobQueue
from backend_stub.store import open_store

DEMO_USER = ("demo", "demo")


@dataclass(frozen=True)
class DemoTitle:
    title: str
    lavfi: str  # video source filter
    tone_hz: int
    genre: str
    tags: tuple[str, ...]


# Different motion complexity, so per-title ladders and ABR have something to tell apart.
DEMO_TITLES: tuple[DemoTitle, ...] = (
    DemoTitle(
        "Test Pattern Chase", "testsrc2=size=1280x720:rate=30", 440, "action", ("motion", "pattern")
    ),
    DemoTitle(
        "Colour Bars at Rest",
        "smptehdbars=size=1280x720:rate=30",
        1000,
        "documentary",
        ("static", "bars"),
    ),
    DemoTitle(
        "Game of Life",
        "life=s=1280x720:mold=10:r=30:ratio=0.1:death_color=#C83232:life_color=#00ff00",
        660,
        "action",
        ("noise", "motion"),
    ),
)


def seed_demo(
    config: BackendConfig, sessions: sessionmaker[Session], seconds: int = 30
) -> list[str]:
    """Create the demo user and queue the demo titles not already in the catalog."""
    create_user(sessions, *DEMO_USER)
    store = open_store(config.store_url)
    queue = JobQueue(sessions)
    src_dir = config.data_dir / "demo-src"
    src_dir.mkdir(parents=True, exist_ok=True)
    queued: list[str] = []
    for demo in DEMO_TITLES:
        with sessions() as s:
            if s.scalar(select(Video.id).where(Video.title == demo.title)) is not None:
                continue
        src = src_dir / f"{demo.title.lower().replace(' ', '-')}.mp4"
        if not src.exists():
            synthesize_clip(src, seconds, demo.lavfi, demo.tone_hz, crf=16)
        video_id = secrets.token_hex(6)
        source_key = f"raw/{video_id}/source.mp4"
        store.put_file(source_key, src)
        now = time.time()
        with sessions.begin() as s:
            s.add(
                Video(
                    id=video_id,
                    title=demo.title,
                    status="PENDING",
                    source_key=source_key,
                    owner_id=None,
                    genre=demo.genre,
                    tags=list(demo.tags),
                    intro_start=2.0,
                    intro_end=8.0,
                    # Per-title ladders, so the three complexities get visibly different bits.
                    options={"per_title": True},
                    media={},
                    created_at=now,
                    updated_at=now,
                )
            )
        queue.enqueue(video_id, config.max_attempts)
        queued.append(video_id)
    return queued
