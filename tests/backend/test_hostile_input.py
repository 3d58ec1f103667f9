"""Hostile input at the origin (issue 14): every number finite and in range, a body-size limit
of its own, bad tokens and over-long queries refused with 4xx; nothing reaches a 500, and no
report can freeze a viewer's position."""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import secrets
import socket
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx
import jwt
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from backend.helpers import Stack
from backend_stub.api.playback import MAX_CLOCK_AHEAD_SECONDS
from backend_stub.auth import create_user
from backend_stub.db import session_factory
from backend_stub.models import PlaybackProgress

DAY = 24 * 3600.0


@pytest.fixture(scope="module")
def http(stack: Stack) -> Iterator[httpx.Client]:
    """One client for the module: a new one per request costs more than the request."""
    with httpx.Client(base_url=stack.api, timeout=30) as client:
        yield client


def _user(stack: Stack) -> dict[str, str]:
    """A user of their own, so no other test's progress rows are in play."""
    name = f"u{secrets.token_hex(4)}"
    sessions = session_factory(stack.config.database_url)
    create_user(sessions, name, f"{name}-pw")
    sessions.kw["bind"].dispose()
    return {"Authorization": f"Bearer {stack.token(name)}"}


def _session(stack: Stack, video: str, headers: dict[str, str]) -> str:
    m = httpx.get(f"{stack.api}/api/v1/videos/{video}/manifest", headers=headers)
    m.raise_for_status()
    sid: str = m.json()["playback_session_id"]
    return sid


def _raw_report(
    http: httpx.Client,
    headers: dict[str, str],
    video: str,
    sid: str,
    offset: str,
    at: str,
) -> httpx.Response:
    """A progress report written as JSON text, so values Python's json would not write
    (1e400, NaN, Infinity) reach the server as an attacker sends them."""
    body = (
        f'{{"video_id": {json.dumps(video)}, "playback_session_id": {json.dumps(sid)}, '
        f'"device_id": "tv-1", "offset_seconds": {offset}, "reported_at": {at}}}'
    )
    return http.post(
        "/api/v1/playback/progress",
        headers={**headers, "Content-Type": "application/json"},
        content=body,
    )


def _stored(stack: Stack, headers: dict[str, str], video: str) -> float | None:
    items = httpx.get(f"{stack.api}/api/v1/users/me/continue-watching", headers=headers).json()[
        "items"
    ]
    row = next((i for i in items if i["video_id"] == video), None)
    return None if row is None else float(row["offset_seconds"])


def test_an_overflowing_reported_at_is_refused_so_progress_cannot_freeze(
    http: httpx.Client, stack: Stack, ready_video: str
) -> None:
    user = _user(stack)
    sid = _session(stack, ready_video, user)
    frozen = _raw_report(http, user, ready_video, sid, "5.0", "1e400")
    assert frozen.status_code == 422
    assert "reported_at" in frozen.json()["detail"] and "finite" in frozen.json()["detail"]
    for offset in ("Infinity", "1e999", "-Infinity"):
        bad = _raw_report(http, user, ready_video, sid, offset, str(time.time()))
        assert bad.status_code == 422 and "offset_seconds" in bad.json()["detail"], offset
    later = _raw_report(http, user, ready_video, sid, "7.0", str(time.time()))
    assert later.status_code == 200 and later.json()["applied"] is True
    assert _stored(stack, user, ready_video) == 7.0


def test_a_nan_reported_at_is_422_not_500(
    http: httpx.Client, stack: Stack, ready_video: str
) -> None:
    user = _user(stack)
    sid = _session(stack, ready_video, user)
    for at in ("NaN", "-Infinity", '"nan"'):
        resp = _raw_report(http, user, ready_video, sid, "1.0", at)
        assert resp.status_code == 422 and "reported_at" in resp.json()["detail"], at


def test_reported_at_more_than_a_day_ahead_of_the_server_is_refused(
    http: httpx.Client, stack: Stack, ready_video: str
) -> None:
    user = _user(stack)
    sid = _session(stack, ready_video, user)
    ahead = _raw_report(http, user, ready_video, sid, "3.0", str(time.time() + 2 * DAY))
    assert ahead.status_code == 422 and "ahead of the server's clock" in ahead.text
    # A device clock an hour fast is tolerated.
    fast = _raw_report(http, user, ready_video, sid, "4.0", str(time.time() + 3600))
    assert fast.status_code == 200 and fast.json()["applied"] is True


# +inf, and 2100-01-01 (finite, but it would have won until then)
@pytest.mark.parametrize("poison", [math.inf, 4_102_444_800.0])
def test_a_poisoned_stored_row_loses_to_the_next_valid_report(
    http: httpx.Client, stack: Stack, ready_video: str, poison: float
) -> None:
    """Rows stored before reports were checked (+inf, or a far-future time) must not keep
    freezing the viewer."""
    user = _user(stack)
    sid = _session(stack, ready_video, user)
    _poison_then_resume(http, stack, user, ready_video, sid, poison)


@pytest.mark.parametrize("poison", [math.nan, math.inf])
def test_a_poisoned_row_on_postgresql_loses_to_the_next_valid_report(
    deployed: tuple[Stack, str], deployed_video: str, poison: float
) -> None:
    """PostgreSQL stores NaN (SQLite turns it into NULL) and sorts it above every number, so
    before the fix a NaN row beat every later report."""
    stack, _ = deployed
    user = _user(stack)
    sid = _session(stack, deployed_video, user)
    with httpx.Client(base_url=stack.api) as http:
        _poison_then_resume(http, stack, user, deployed_video, sid, poison)


def _poison_then_resume(
    http: httpx.Client, stack: Stack, user: dict[str, str], video: str, sid: str, poison: float
) -> None:
    """Store a report, overwrite its reported_at with `poison` behind the API's back (as a row
    from before the checks), then check the next valid report wins."""
    first = _raw_report(http, user, video, sid, "2.0", str(time.time() - 60))
    assert first.status_code == 200
    sessions = session_factory(stack.config.database_url)
    with sessions.begin() as s:
        s.execute(
            update(PlaybackProgress)
            .where(PlaybackProgress.playback_session_id == sid)
            .values(reported_at=poison)
        )
    sessions.kw["bind"].dispose()
    resumed = _raw_report(http, user, video, sid, "8.0", str(time.time()))
    assert resumed.status_code == 200 and resumed.json()["applied"] is True
    assert _stored(stack, user, video) == 8.0


def test_an_over_long_search_is_422_at_the_origin(stack: Stack) -> None:
    resp = httpx.get(f"{stack.origin}/api/v1/videos", params={"q": "x" * 60_000})
    assert resp.status_code == 422 and "q" in resp.json()["detail"]
    assert httpx.get(f"{stack.origin}/api/v1/videos", params={"q": "x" * 512}).status_code == 200


@pytest.mark.parametrize("sub", ["alice", "1e3", "-1", "0", "1" * 30, "١"])
def test_a_jwt_with_a_subject_that_is_not_a_user_id_gets_401(stack: Stack, sub: str) -> None:
    now = int(time.time())
    token = jwt.encode(
        {"sub": sub, "iat": now, "exp": now + 600}, stack.config.jwt_secret, algorithm="HS256"
    )
    resp = httpx.get(
        f"{stack.origin}/api/v1/users/me/continue-watching",
        headers={"Authorization": f"Bearer {token}"},
    )
    assert resp.status_code == 401 and "subject" in resp.json()["detail"]


def _send_until_answered(url: str, head: bytes, chunks: int, chunk: bytes) -> tuple[bytes, int]:
    """Send `head`, then up to `chunks` chunks, reading whenever the server has answered;
    returns (the answer's first bytes, body bytes sent before it came)."""
    parts = urlsplit(url)
    sent = 0
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(head)
        sock.setblocking(False)
        answer = b""
        for _ in range(chunks):
            with contextlib.suppress(BlockingIOError):
                answer = sock.recv(4096)
            if answer:
                break
            try:
                sock.sendall(chunk)
            except (BlockingIOError, BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
        sock.setblocking(True)
        # The whole (small) answer: up to the server closing or a pause.
        sock.settimeout(1.0)
        with contextlib.suppress(TimeoutError, ConnectionResetError):
            while piece := sock.recv(4096):
                answer += piece
    return answer, sent


def test_the_origin_refuses_an_80_mib_login_without_reading_it(stack: Stack) -> None:
    host = urlsplit(stack.origin).netloc.encode()
    size = 80 * 1024**2
    declared = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: " + host + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(size).encode() + b"\r\n\r\n"
    )
    answer, sent = _send_until_answered(stack.origin, declared, 1280, b"x" * 65536)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 16 * 1024**2
    # No Content-Length: the body is counted as it comes and cut off past the limit.
    chunked = (
        b"POST /api/v1/auth/token HTTP/1.1\r\nHost: " + host + b"\r\n"
        b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    )
    piece = b"10000\r\n" + b"x" * 65536 + b"\r\n"
    answer, sent = _send_until_answered(stack.origin, chunked, 1280, piece)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"1048576 bytes" in answer  # the detail names the limit
    assert sent < 16 * 1024**2


def test_an_upload_chunk_keeps_its_own_larger_limit(stack: Stack, alice: dict[str, str]) -> None:
    data = secrets.token_bytes(3 * 1024**2)
    created = httpx.post(
        f"{stack.api}/api/v1/uploads",
        headers=alice,
        json={
            "filename": "big.mp4",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "title": "Big chunk",
        },
    )
    assert created.status_code == 201, created.text
    url = f"{stack.api}{created.json()['upload_url']}"
    chunk = httpx.patch(url, headers={**alice, "Upload-Offset": "0"}, content=data)
    assert chunk.status_code == 204 and chunk.headers["Upload-Offset"] == str(len(data))


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("intro_start", "Infinity"),
        ("intro_end", "1e400"),
        ("size", "1e400"),
        ("options", '{"segment_seconds": 1e400}'),
        ("options", '{"max_height": NaN}'),
        ("genre", json.dumps("x" * 65)),
        ("title", json.dumps("bad\u0000title")),
    ],
)
def test_upload_numbers_and_texts_out_of_range_are_422_naming_the_field(
    stack: Stack, alice: dict[str, str], field: str, value: str
) -> None:
    base = {
        "filename": '"a.mp4"',
        "size": "10",
        "sha256": json.dumps("0" * 64),
        "title": '"t"',
        "intro_start": "1.0",
        "intro_end": "2.0",
    }
    body = "{" + ", ".join(f'"{k}": {v}' for k, v in {**base, field: value}.items()) + "}"
    resp = httpx.post(
        f"{stack.api}/api/v1/uploads",
        headers={**alice, "Content-Type": "application/json"},
        content=body,
    )
    assert resp.status_code == 422 and field in resp.json()["detail"], resp.text


@pytest.mark.parametrize("limit", ["0", "101", "1e400", "nan", "9" * 40])
def test_recommendations_limit_out_of_range_is_422(
    stack: Stack, alice: dict[str, str], limit: str
) -> None:
    resp = httpx.get(
        f"{stack.api}/api/v1/users/me/recommendations", headers=alice, params={"limit": limit}
    )
    assert resp.status_code == 422 and "limit" in resp.json()["detail"]


# Hostile reported_at / offset values as JSON text: none may win over a real report.
_HOSTILE = st.one_of(
    st.sampled_from(["NaN", "Infinity", "-Infinity", "1e400", "-1e400", "1e308", "-5"]),
    st.floats(min_value=time.time() + 2 * DAY, max_value=1e300).map(repr),  # far future
    st.floats(min_value=0, max_value=1e9).map(repr),  # the past: accepted, never newer
    st.text(max_size=40).map(json.dumps),
    st.sampled_from(['"9999-12-31T23:59:59Z"', '"2030-01-01T00:00:00"', "true", "null", "[]"]),
)


@pytest.fixture()
def hostile(stack: Stack, ready_video: str) -> tuple[dict[str, str], str]:
    """One user and playback session for every example: no value _HOSTILE makes is accepted
    with a stamp newer than the moment the next example runs."""
    user = _user(stack)
    return user, _session(stack, ready_video, user)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(reports=st.lists(st.tuples(_HOSTILE, _HOSTILE), min_size=1, max_size=6))
def test_after_any_hostile_reports_a_newer_finite_report_wins(
    http: httpx.Client,
    stack: Stack,
    ready_video: str,
    hostile: tuple[dict[str, str], str],
    reports: list[tuple[str, str]],
) -> None:
    user, sid = hostile
    for offset, at in reports:
        resp = _raw_report(http, user, ready_video, sid, offset, at)
        assert resp.status_code in (200, 422), (offset, at, resp.text)
    final = _raw_report(http, user, ready_video, sid, "6.5", repr(time.time()))
    assert final.status_code == 200 and final.json()["applied"] is True, final.text
    assert _stored(stack, user, ready_video) == 6.5


def test_200_concurrent_hostile_posts_leave_other_users_rows_untouched(
    http: httpx.Client, stack: Stack, ready_video: str
) -> None:
    victim, attacker = _user(stack), _user(stack)
    victim_sid = _session(stack, ready_video, victim)
    assert _raw_report(http, victim, ready_video, victim_sid, "4.0", repr(time.time())).is_success
    attacker_sid = _session(stack, ready_video, attacker)
    sessions = session_factory(stack.config.database_url)

    token = attacker["Authorization"].removeprefix("Bearer ")
    own = int(jwt.decode(token, options={"verify_signature": False})["sub"])

    def others() -> set[tuple[object, ...]]:
        with sessions() as s:
            rows = s.scalars(select(PlaybackProgress).where(PlaybackProgress.user_id != own))
            return {
                (r.user_id, r.video_id, r.offset_seconds, r.reported_at, r.device_id) for r in rows
            }

    before = others()
    values = ["NaN", "Infinity", "1e400", "-1", repr(time.time() + 10 * DAY), '"x"', "1e308"]

    def post(i: int) -> int:
        # Alternate between the attacker's own session and the victim's.
        sid = victim_sid if i % 2 else attacker_sid
        at = values[i % len(values)] if i % 3 else repr(time.time() + MAX_CLOCK_AHEAD_SECONDS / 2)
        offset = values[(i + 1) % len(values)] if i % 5 else "1.0"
        return _raw_report(http, attacker, ready_video, sid, offset, at).status_code

    with ThreadPoolExecutor(32) as pool:
        statuses = list(pool.map(post, range(200)))
    assert all(status < 500 for status in statuses), statuses
    assert {403, 422} <= set(statuses)
    assert others() == before
    assert _stored(stack, victim, ready_video) == 4.0
    sessions.kw["bind"].dispose()


def test_a_nul_anywhere_is_422_on_postgresql(deployed: tuple[Stack, str]) -> None:
    """PostgreSQL raises on NUL in text (SQLite stores it): refused before the database."""
    stack, _ = deployed
    user = _user(stack)
    with httpx.Client(base_url=stack.api) as http:
        for path in ("/api/v1/videos/a%00b", "/api/v1/videos/a%00b/manifest"):
            resp = http.get(path, headers=user)
            assert resp.status_code == 422 and "video_id" in resp.json()["detail"], path
        login = http.post("/api/v1/auth/token", json={"username": "a\x00", "password": "p"})
        assert login.status_code == 422 and "control character" in login.json()["detail"]
        search = http.get("/api/v1/videos", params={"q": "a\x00"})
        assert search.status_code == 422 and "q" in search.json()["detail"]
