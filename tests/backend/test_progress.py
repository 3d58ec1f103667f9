"""Progress sync: idempotent, last-write-wins by reported_at, per-user isolation."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import httpx

from backend.helpers import Stack


def _session(stack: Stack, video: str, headers: dict[str, str]) -> str:
    m = httpx.get(f"{stack.api}/api/v1/videos/{video}/manifest", headers=headers).json()
    sid: str = m["playback_session_id"]
    return sid


def _report(
    stack: Stack,
    headers: dict[str, str],
    video: str,
    sid: str,
    offset: float,
    at: float | str,
    device: str = "tv-1",
) -> httpx.Response:
    return httpx.post(
        f"{stack.api}/api/v1/playback/progress",
        headers=headers,
        json={
            "video_id": video,
            "playback_session_id": sid,
            "offset_seconds": offset,
            "device_id": device,
            "reported_at": at,
        },
    )


def _iso(base: datetime, seconds: int) -> str:
    return (base + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def _resume_row(stack: Stack, headers: dict[str, str], video: str) -> dict[str, object] | None:
    items = httpx.get(f"{stack.api}/api/v1/users/me/continue-watching", headers=headers).json()[
        "items"
    ]
    return next((i for i in items if i["video_id"] == video), None)


def test_progress_is_idempotent_and_a_late_older_report_never_wins(
    stack: Stack, ready_video: str, alice: dict[str, str]
) -> None:
    sid = _session(stack, ready_video, alice)
    base = datetime.now(UTC) + timedelta(minutes=10)
    assert _report(stack, alice, ready_video, sid, 3.0, _iso(base, 10)).status_code == 200
    again = _report(stack, alice, ready_video, sid, 3.0, _iso(base, 10))  # a retry
    assert again.status_code == 200 and again.json()["offset_seconds"] == 3.0
    assert _report(stack, alice, ready_video, sid, 6.0, _iso(base, 20)).json()["applied"] is True
    late = _report(
        stack, alice, ready_video, sid, 4.0, _iso(base, 15)
    )  # arrives after, sent before
    assert late.status_code == 200 and late.json()["applied"] is False
    row = _resume_row(stack, alice, ready_video)
    assert row is not None and row["offset_seconds"] == 6.0 and row["title"] == "Fixture Pattern"


def test_another_users_progress_is_untouchable(
    stack: Stack, ready_video: str, alice: dict[str, str], bob: dict[str, str]
) -> None:
    alice_sid = _session(stack, ready_video, alice)
    now = time.time()
    _report(stack, alice, ready_video, alice_sid, 5.0, now + 1200)
    # Bob reuses Alice's session id with a newer timestamp: refused, Alice's row unchanged.
    stolen = _report(stack, bob, ready_video, alice_sid, 9.0, now + 1250)
    assert stolen.status_code == 403
    row = _resume_row(stack, alice, ready_video)
    assert row is not None and row["offset_seconds"] == 5.0
    # Bob's own progress lives in his own row and never shows in Alice's list.
    bob_sid = _session(stack, ready_video, bob)
    assert _report(stack, bob, ready_video, bob_sid, 2.0, now + 1201).status_code == 200
    assert _resume_row(stack, bob, ready_video)["offset_seconds"] == 2.0  # type: ignore[index]
    assert _resume_row(stack, alice, ready_video)["offset_seconds"] == 5.0  # type: ignore[index]
    assert httpx.get(f"{stack.api}/api/v1/users/me/continue-watching").status_code == 401


def test_bad_progress_reports_are_rejected_with_reasons(
    stack: Stack, ready_video: str, alice: dict[str, str]
) -> None:
    sid = _session(stack, ready_video, alice)
    naive = _report(stack, alice, ready_video, sid, 1.0, "2026-01-01T00:00:00")
    assert naive.status_code == 422 and "timezone" in naive.text
    negative = _report(stack, alice, ready_video, sid, -1.0, 1.0)
    assert negative.status_code == 422
    unknown = _report(stack, alice, ready_video, "no-such-session", 1.0, 1.0)
    assert unknown.status_code == 404 and "no-such-session" in unknown.text
