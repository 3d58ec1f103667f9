"""Hostile input at the CDN tiers (issue 14): the debug counter is off unless asked for and
cannot be grown with made-up paths."""

from __future__ import annotations

import http.client
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from backend.helpers import Stack, start_serve, stop_serve
from backend_stub.api.state import FetchCounter
from backend_stub.signing import signed_path


def _raw_get(base: str, raw_path: str) -> tuple[int, bytes]:
    """GET with the path sent byte for byte (httpx would resolve '..' and re-encode)."""
    u = urlsplit(base)
    assert u.hostname is not None
    conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
    try:
        conn.request("GET", raw_path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def _prefix(stack: Stack, video: str, ttl: int = 600) -> str:
    """`/t/TOKEN/media/VIDEO`, validly signed for `video`."""
    return signed_path(stack.config.url_signing_secret, video, "x", ttl).removesuffix("/x")


def test_made_up_names_under_a_signed_url_do_not_grow_the_fetch_counter(
    stack: Stack, ready_video: str
) -> None:
    prefix = _prefix(stack, ready_video)
    before = stack.origin_fetches()
    names = [f"r0/made-up-{i}.m4s" for i in range(60)]
    for name in names:
        assert httpx.get(f"{stack.edge}{prefix}/{name}").status_code == 404
    after = stack.origin_fetches()
    assert after["missing"] == before["missing"] + len(names)
    assert not any("made-up" in key for key in after["fetches"])


def test_debug_endpoint_is_off_unless_asked_for_and_never_through_the_edge(
    stack: Stack, tmp_path: Path
) -> None:
    # The session's stack runs with --debug-endpoints: the origin answers, the edge does not,
    # in any spelling of the path.
    assert httpx.get(f"{stack.origin}/api/v1/debug/origin-fetches").status_code == 200
    for path in (
        "/api/v1/debug/origin-fetches",
        "/api/v1/debug/origin-fetches?prefix=media/",
        "/api/v1/%64ebug/origin-fetches",
        "/api/v1//debug/origin-fetches",
        "/t/x/../../api/v1/debug/origin-fetches",
        "/t/x/..%2F..%2Fapi/v1/debug/origin-fetches",
    ):
        status, body = _raw_get(stack.edge, path)
        assert status in (400, 403, 404), path
        assert b"fetches" not in body, path
    proc, info = start_serve(tmp_path / "data", "--workers", "1")
    try:
        resp = httpx.get(f"{info['origin']}/api/v1/debug/origin-fetches")
        assert resp.status_code == 404
        assert "--debug-endpoints" in resp.json()["detail"]
    finally:
        assert stop_serve(proc) == 0


def test_the_fetch_counter_is_bounded() -> None:
    counter = FetchCounter(capacity=2)
    for key in ("a", "b", "a", "c", "d", "b"):
        counter.hit(key)
    counter.miss()
    snap = counter.snapshot()
    assert snap.counts == {"a": 2, "b": 2}
    assert (snap.untracked, snap.missing) == (2, 1)
