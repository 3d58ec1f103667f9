"""Recommendations react to co-watching and to content tags, and differ per user."""

from __future__ import annotations

import time

import httpx

from backend.helpers import Stack
from backend_stub.auth import create_user
from backend_stub.db import session_factory
from backend_stub.models import Video

RUNGS = {
    "rungs": [{"index": 0, "height": 240, "width": 426, "bitrate_kbps": 400}],
    "has_audio": False,
}


def _catalog(stack: Stack) -> dict[str, str]:
    """Catalog entries with metadata only (recommendations never read media)."""
    sessions = session_factory(stack.config.database_url)
    titles = {
        "A": ("space", ["stars"]),
        "B": ("cooking", ["food"]),
        "C": ("cooking", ["food", "baking"]),
        "D": ("space", ["stars", "rockets"]),
        "E": ("sports", ["ball"]),
    }
    ids = {}
    now = time.time()
    with sessions.begin() as s:
        for name, (genre, tags) in titles.items():
            vid = f"rec{name.lower()}{int(now * 1000) % 10**6:06d}"
            s.add(
                Video(
                    id=vid,
                    title=f"Rec {name}",
                    status="READY",
                    source_key=f"raw/{vid}/source.mp4",
                    genre=genre,
                    tags=tags,
                    media=RUNGS,
                    options={},
                    duration_seconds=100.0,
                    created_at=now,
                    updated_at=now,
                )
            )
            ids[name] = vid
    for user in ("carol", "dave", "erin", "frank"):
        create_user(sessions, user, f"{user}-pw")
    sessions.kw["bind"].dispose()
    return ids


def _watch(stack: Stack, headers: dict[str, str], vid: str, at: float) -> None:
    sid = httpx.get(f"{stack.api}/api/v1/videos/{vid}/manifest", headers=headers).json()[
        "playback_session_id"
    ]
    resp = httpx.post(
        f"{stack.api}/api/v1/playback/progress",
        headers=headers,
        json={
            "video_id": vid,
            "playback_session_id": sid,
            "offset_seconds": 10,
            "device_id": "d",
            "reported_at": at,
        },
    )
    assert resp.status_code == 200


def _order(stack: Stack, headers: dict[str, str], ids: dict[str, str]) -> list[str]:
    names = {v: k for k, v in ids.items()}
    items = httpx.get(
        f"{stack.api}/api/v1/users/me/recommendations", headers=headers, params={"limit": 100}
    ).json()["items"]
    return [names[i["video_id"]] for i in items if i["video_id"] in names]


def test_recommendations_follow_co_watching_and_tags(stack: Stack) -> None:
    ids = _catalog(stack)
    h = {
        u: {"Authorization": f"Bearer {stack.token(u)}"} for u in ("carol", "dave", "erin", "frank")
    }
    # dave and erin both watched A and B; carol watched only A; frank watched nothing.
    for user in ("dave", "erin"):
        _watch(stack, h[user], ids["A"], 1.0)
        _watch(stack, h[user], ids["B"], 2.0)
    _watch(stack, h["carol"], ids["A"], 3.0)
    carol = _order(stack, h["carol"], ids)
    assert "A" not in carol  # already watched
    assert carol[0] == "B"  # co-watched with A by everyone else
    assert carol.index("D") < carol.index("E")  # shares A's genre/tags; E shares nothing
    assert carol.index("D") < carol.index("C")
    # Without history: the most-watched titles first.
    frank = _order(stack, h["frank"], ids)
    assert frank[:2] == ["A", "B"]
    assert httpx.get(f"{stack.api}/api/v1/users/me/recommendations").status_code == 401
