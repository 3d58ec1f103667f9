"""Hostile input at the CDN tiers (issue 14): every tier checks the signature, a traversal in
any spelling is refused at the edge already, the debug counter is off unless asked for and
cannot be grown with made-up paths."""

from __future__ import annotations

import http.client
import posixpath
import time
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
from hypothesis import given
from hypothesis import strategies as st

from backend.helpers import Stack, start_serve, stop_serve
from backend_stub.api.state import FetchCounter
from backend_stub.signing import make_token, signed_path, verify_path

OTHER = "ffffffffffff"  # a second title's directory in the store, made by the test below
OTHER_MARK = "#EXT-X-OTHER-TITLE-ONLY"


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


def test_the_shield_refuses_bad_tokens_even_for_objects_it_has_cached(
    stack: Stack, ready_video: str
) -> None:
    secret = stack.config.url_signing_secret
    name = "media_0.m3u8"
    key = f"media/{ready_video}/{name}"
    assert httpx.get(stack.edge + signed_path(secret, ready_video, name, 600)).status_code == 200
    cached = httpx.get(stack.shield + signed_path(secret, ready_video, name, 900))
    assert cached.status_code == 200 and cached.headers["x-shield-cache"] == "HIT"
    # Other tests on this stack may have fetched the playlist before: count from here.
    fetched = stack.fetches(key)

    forged = make_token("not-the-secret", ready_video, int(time.time()) + 600)
    other_title = make_token(secret, "0123456789ab", int(time.time()) + 600)
    bad = [
        f"/t/1.x/media/{ready_video}/{name}",  # the review's example
        f"/t/{forged}/media/{ready_video}/{name}",
        signed_path(secret, ready_video, name, -10),  # expired
        f"/t/{other_title}/media/{ready_video}/{name}",
        f"/media/{ready_video}/{name}",
    ]
    for path in bad:
        resp = httpx.get(stack.shield + path)
        assert resp.status_code == 403, path
        assert "#EXTM3U" not in resp.text
    assert stack.fetches(key) == fetched  # no bad token reached the origin either


def _put_other_title(stack: Stack) -> None:
    """A second title's master in the store, for traversals to aim at."""
    other = stack.data_dir / "store" / "media" / OTHER
    other.mkdir(parents=True, exist_ok=True)
    (other / "master.m3u8").write_text(f"#EXTM3U\n{OTHER_MARK}\n")


# Relative to /t/TOKEN/media/{title}/, each aiming at another title's master or at
# DATA_DIR/secrets.json (three levels up from the title's directory in the file store).
TRAVERSALS = [
    f"../{OTHER}/master.m3u8",
    f"%2e%2e/{OTHER}/master.m3u8",
    f"%2E%2E%2F{OTHER}%2Fmaster.m3u8",
    f"..%2f{OTHER}/master.m3u8",
    "..%2F..%2F..%2Fsecrets.json",
    "%2e%2e%2f%2e%2e%2f%2e%2e%2fsecrets.json",
    f"%252e%252e/{OTHER}/master.m3u8",  # double-encoded: stays a literal '%2e%2e'
    "..%252f..%252f..%252fsecrets.json",
    f"..\\{OTHER}\\master.m3u8",
    f"..%5c{OTHER}%5cmaster.m3u8",
    "..\\..\\..\\secrets.json",
    f"r0//../../{OTHER}/master.m3u8",
    f"r0/..;/../{OTHER}/master.m3u8",
    f"..;/{OTHER}/master.m3u8",
    "..%00/..%00/..%00/secrets.json",
    "..%c0%af..%c0%af..%c0%afsecrets.json",  # overlong UTF-8 '/'
    "../../../../../../../../etc/passwd",
    "./master.m3u8",
    "%2e/master.m3u8",
    "r0//seg-00001.m4s",
    "master.m3u8;x=1",
    "master.m3u8%3b",
    "master.m3u8%00.jpg",
    "..",
    "%2e%2e",
]


def test_traversal_in_any_spelling_is_refused_at_every_tier(stack: Stack, ready_video: str) -> None:
    _put_other_title(stack)
    secrets = (stack.data_dir / "secrets.json").read_text()
    url_secret = stack.config.url_signing_secret
    prefix = _prefix(stack, ready_video)
    # The title id itself carrying the traversal, token signed for the title it names first.
    in_id = f"/t/{make_token(url_secret, ready_video, int(time.time()) + 600)}/media/"
    paths = [prefix + "/" + rest for rest in TRAVERSALS] + [
        f"{in_id}{ready_video}%2F..%2F{OTHER}/master.m3u8",
        f"{in_id}{ready_video}%2f%2e%2e%2f{OTHER}%2fmaster.m3u8",
    ]
    assert _raw_get(stack.edge, prefix + "/master.m3u8")[0] == 200  # the prefix itself is good
    missing_before = stack.missing_fetches()
    for path in paths:
        for tier, base in (
            ("edge", stack.edge),
            ("shield", stack.shield),
            ("origin", stack.origin),
        ):
            status, body = _raw_get(base, path)
            assert status < 500, (tier, path, status)
            assert status in ((400, 403) if tier == "edge" else (400, 403, 404)), (tier, path)
            assert OTHER_MARK.encode() not in body and url_secret.encode() not in body
            assert secrets.encode() not in body
    assert stack.fetches(f"media/{OTHER}/master.m3u8") == 0
    assert stack.missing_fetches() == missing_before  # none reached a store lookup
    # The other title is there, and served to its own token.
    own = httpx.get(stack.edge + signed_path(url_secret, OTHER, "master.m3u8", 600))
    assert own.status_code == 200 and OTHER_MARK in own.text


def test_a_refusal_says_which_part_of_the_path_was_wrong(stack: Stack, ready_video: str) -> None:
    status, body = _raw_get(stack.origin, _prefix(stack, ready_video) + "/r0/..%2Fmaster.m3u8")
    assert status == 403
    assert "'..'" in body.decode() and "decoded path" in body.decode()


def test_encoded_spellings_of_a_name_are_the_same_object_at_every_tier(
    stack: Stack, ready_video: str
) -> None:
    prefix = _prefix(stack, ready_video)
    key = f"media/{ready_video}/r1/seg-00003.m4s"
    plain = httpx.get(stack.edge + prefix + "/r1/seg-00003.m4s")
    assert plain.status_code == 200 and plain.headers["x-cache"] == "MISS"
    for spelling in ("r1%2Fseg-00003.m4s", "r1/seg%2D00003%2em4s", "%72%31/seg-00003.m4s"):
        status, body = _raw_get(stack.edge, f"{prefix}/{spelling}")
        assert (status, body) == (200, plain.content), spelling
        status, body = _raw_get(stack.shield, f"{prefix}/{spelling}")
        assert (status, body) == (200, plain.content), spelling
    status, body = _raw_get(stack.origin, f"{prefix}/r1%2Fseg%2D00003.m4s")
    assert (status, body) == (200, plain.content)
    # One cache entry per object at both tiers: the origin served it to the first MISS and
    # to the direct request above only.
    assert stack.fetches(key) == 2


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


# verify_path on its own: what it accepts stays inside the signed title, whatever the text.

SECRET = "s" * 32
NOW = 1_000_000.0
TOKEN_A = make_token(SECRET, "titleA", int(NOW) + 600)
NAME = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,12}", fullmatch=True)


@given(st.text(alphabet=st.sampled_from("./\\%;?#2eEfF5cC0a-_rs:\x00é"), max_size=40))
def test_whatever_follows_a_signed_prefix_nothing_outside_the_title_is_accepted(
    rest: str,
) -> None:
    verdict = verify_path(SECRET, f"/t/{TOKEN_A}/media/titleA/{rest}", now=NOW)
    if verdict.ok:
        key = verdict.object_key
        assert key.startswith("media/titleA/") and posixpath.normpath(key) == key
        assert all(part and not part.startswith(".") for part in key.split("/"))
        assert "\\" not in key and ";" not in key and "%" not in key


@given(st.lists(NAME, min_size=1, max_size=4), st.data())
def test_any_percent_encoding_of_a_valid_path_names_the_same_object(
    names: list[str], data: st.DataObject
) -> None:
    plain = f"/t/{TOKEN_A}/media/titleA/" + "/".join(names)
    encoded = "".join(
        quote(c, safe="") if c != "/" and data.draw(st.booleans()) else c for c in plain
    )
    # quote leaves unreserved characters alone; force some of them to %XX as well
    forced = "".join(
        f"%{ord(c):02X}" if c.isalnum() and data.draw(st.booleans()) else c for c in encoded
    )
    a, b = verify_path(SECRET, plain, now=NOW), verify_path(SECRET, forced, now=NOW)
    assert a.ok and b.ok and a.object_key == b.object_key == "media/titleA/" + "/".join(names)


@given(st.text(max_size=80))
def test_verify_path_refuses_rather_than_raises(text: str) -> None:
    verdict = verify_path(SECRET, text, now=NOW)
    assert verdict.ok is False and verdict.reason
    long_expiry = verify_path(SECRET, f"/t/{'9' * 5000}.x/media/a/{text}", now=NOW)
    assert long_expiry.ok is False
