"""Fuzz targets for the origin API's payloads: valid requests mutated with overflowing numbers
(1e400 as JSON text), NaN/Infinity, wrong types, huge and control-character strings, broken
JSON. The real app in process (TestClient) on a real SQLite database: 2xx is ok, 4xx a domain
error, 5xx a crash that fails the test."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st

from backend_stub.api.app import create_app
from backend_stub.auth import create_user
from backend_stub.config import BackendConfig
from backend_stub.models import Video
from tests.fuzz.harness import FuzzRecorder, fuzz_settings

KID, KEY = "00112233445566778899aabbccddeeff", "ffeeddccbbaa99887766554433221100"


@dataclass
class Api:
    client: TestClient
    headers: dict[str, str]
    secret: str
    video_id: str
    session_id: str


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    data_dir: Path = tmp_path_factory.mktemp("fuzz-api")
    config = BackendConfig(data_dir=data_dir, jwt_secret="j" * 32, url_signing_secret="u" * 32)
    app = create_app(config)
    sessions = app.state.backend.sessions
    create_user(sessions, "alice", "alice-pw")
    with sessions.begin() as s:
        s.add(
            Video(
                id="v1",
                title="Fuzz title",
                status="READY",
                source_key="raw/v1/source.mp4",
                duration_seconds=600.0,
                genre="drama",
                tags=["a"],
                media={"rungs": [{"height": 360, "width": 640, "bitrate_kbps": 800}]},
                options={},
                drm_key_id=KID,
                drm_key=KEY,
                created_at=0,
                updated_at=0,
            )
        )
    with TestClient(app, raise_server_exceptions=False) as client:
        token = client.post(
            "/api/v1/auth/token", json={"username": "alice", "password": "alice-pw"}
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        sid = client.get("/api/v1/videos/v1/manifest", headers=headers).json()[
            "playback_session_id"
        ]
        yield Api(client, headers, config.jwt_secret, "v1", sid)


def _judge(fuzz: FuzzRecorder, target: str, resp: httpx.Response, sent: object) -> None:
    if resp.status_code >= 500:
        fuzz.count(target, "crash")
        raise AssertionError(f"{target}: {resp.status_code} for {sent!r:.300}: {resp.text:.300}")
    fuzz.count(target, "ok" if resp.status_code < 400 else "domain_error")


# JSON text for a hostile value: what Python's json would never write, and wrong types.
_NUMBERS = st.one_of(
    st.sampled_from(["1e400", "-1e400", "1e999", "NaN", "Infinity", "-Infinity", "-0", "1e-400"]),
    st.integers().map(str),
    st.integers(min_value=20, max_value=5000).map(lambda n: "9" * n),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
)
_STRINGS = st.one_of(
    st.text(max_size=40),
    st.text(alphabet=st.characters(max_codepoint=0x1F), max_size=8),
    st.integers(min_value=100, max_value=100_000).map(lambda n: "x" * n),
    st.sampled_from(
        ["", "2030-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00", "0001-01-01T00:00+01:00"]
    ),
).map(json.dumps)
_OTHER = st.sampled_from(["true", "false", "null", "[]", "{}", '[1, "a"]', '{"a": 1e400}'])
HOSTILE = st.one_of(_NUMBERS, _STRINGS, _OTHER)


def _field(valid: str) -> st.SearchStrategy[str | None]:
    """The valid value 3 times in 5, else a hostile one or none (the field left out)."""
    return st.integers(0, 4).flatmap(
        lambda k: st.just(valid) if k < 3 else st.one_of(HOSTILE, st.none())
    )


def _mutated(valid: dict[str, str]) -> st.SearchStrategy[str]:
    """JSON text of `valid` (field → JSON text) with some fields replaced by hostile values
    or dropped (each field stays valid 3 times in 5, so cases near valid ones are common);
    now and then not JSON at all."""
    names = sorted(valid)
    body = st.fixed_dictionaries({name: _field(valid[name]) for name in names}).map(
        lambda fields: (
            "{"
            + ", ".join(f"{json.dumps(k)}: {v}" for k, v in fields.items() if v is not None)
            + "}"
        )
    )
    broken = st.one_of(
        st.text(max_size=200),
        st.integers(min_value=1, max_value=5000).map(lambda n: "[" * n + "]" * n),
        HOSTILE,
    )
    return st.one_of(body, body, body, broken)


def _post(api: Api, path: str, text: str) -> httpx.Response:
    return api.client.post(
        path, content=text.encode("utf-8", "surrogatepass"),
        headers={**api.headers, "Content-Type": "application/json"},
    )  # fmt: skip


@st.composite
def _progress(draw: st.DrawFn, api: Api) -> str:
    return draw(
        _mutated(
            {
                "video_id": json.dumps(api.video_id),
                "playback_session_id": json.dumps(api.session_id),
                "offset_seconds": "12.5",
                "device_id": '"tv-1"',
                "reported_at": repr(time.time()),
            }
        )
    )


@fuzz_settings
@given(data=st.data())
def test_fuzz_progress(fuzz: FuzzRecorder, api: Api, data: st.DataObject) -> None:
    text = data.draw(_progress(api))
    _judge(fuzz, "api.progress", _post(api, "/api/v1/playback/progress", text), text)


@fuzz_settings
@given(
    text=_mutated({"username": '"alice"', "password": '"alice-pw"'}),
)
def test_fuzz_login(fuzz: FuzzRecorder, api: Api, text: str) -> None:
    _judge(fuzz, "api.login", _post(api, "/api/v1/auth/token", text), text)


_UPLOAD = {
    "filename": '"clip.mp4"',
    "size": "1000",
    "sha256": json.dumps("ab" * 32),
    "title": '"A title"',
    "genre": '"drama"',
    "tags": '["a", "b"]',
    "intro_start": "1.0",
    "intro_end": "5.0",
    "options": '{"segment_seconds": 4, "max_height": 720, "drm_scheme": "cbcs"}',
}


@fuzz_settings
@given(text=_mutated(_UPLOAD))
def test_fuzz_upload_creation(fuzz: FuzzRecorder, api: Api, text: str) -> None:
    _judge(fuzz, "api.uploads", _post(api, "/api/v1/uploads", text), text)


@st.composite
def _licence(draw: st.DrawFn, api: Api) -> str:
    kid = json.dumps(["ABEiM0RVZneImaq7zN3u_w"])
    valid = {"kids": kid, "type": '"temporary"', "playback_session_id": json.dumps(api.session_id)}
    return draw(_mutated(valid))


@fuzz_settings
@given(data=st.data())
def test_fuzz_licence_request(fuzz: FuzzRecorder, api: Api, data: st.DataObject) -> None:
    text = data.draw(_licence(api))
    _judge(fuzz, "api.licence", _post(api, "/api/v1/license/clearkey", text), text)


_QUERY = st.one_of(
    st.text(max_size=100),
    # httpx refuses URLs over 64 KiB: %-escaped, 20,000 "%" is 60,000 characters.
    st.integers(min_value=400, max_value=20_000).map(lambda n: "%" * n),
    st.sampled_from(["1e400", "NaN", "-1", "0", "101", "9" * 40, "10"]),
)


@fuzz_settings
@given(q=_QUERY, limit=_QUERY)
def test_fuzz_search_and_limits(fuzz: FuzzRecorder, api: Api, q: str, limit: str) -> None:
    search = api.client.get("/api/v1/videos", params={"q": q})
    _judge(fuzz, "api.search", search, q)
    recs = api.client.get(
        "/api/v1/users/me/recommendations", params={"limit": limit}, headers=api.headers
    )
    _judge(fuzz, "api.search", recs, limit)


_CLAIM = st.one_of(
    st.text(max_size=30),
    st.integers(),
    st.floats(),
    st.none(),
    st.lists(st.integers(), max_size=3),
    st.sampled_from(["1", "0", "-1", "1" * 40, "١", " 1"]),
)


@fuzz_settings
@given(
    sub=_CLAIM,
    exp=st.one_of(st.just(int(time.time()) + 600), _CLAIM),
    raw=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=60),
)
def test_fuzz_bearer_tokens(
    fuzz: FuzzRecorder, api: Api, sub: object, exp: object, raw: str
) -> None:
    """Tokens signed with the right secret but odd claims, and plain garbage."""
    try:
        token = jwt.encode({"sub": sub, "exp": exp}, api.secret, algorithm="HS256")
    except (TypeError, ValueError):  # a claim PyJWT cannot even encode (NaN)
        token = raw
    for value in (token, raw):
        resp = api.client.get(
            "/api/v1/users/me/continue-watching",
            headers={"Authorization": f"Bearer {value}".encode("utf-8", "surrogatepass")},
        )
        _judge(fuzz, "api.auth", resp, value)
