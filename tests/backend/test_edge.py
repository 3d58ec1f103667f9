"""The nginx tiers: cache headers, X-Cache, token-free cache key, single flight on a miss, and
what a web player on another origin needs from the edge (CORS)."""

from __future__ import annotations

import asyncio

import httpx

import api_paths
from backend.helpers import Stack
from backend_stub.signing import make_token, signed_path

# A web player's page: never the edge's own origin.
PAGE = {"Origin": "https://player.example"}


def _url(stack: Stack, video: str, name: str, ttl: int = 600) -> str:
    return stack.edge + signed_path(stack.config.url_signing_secret, video, name, ttl)


def test_cache_control_and_x_cache(stack: Stack, ready_video: str) -> None:
    seg = _url(stack, ready_video, "r0/seg-00003.m4s")
    first, second = httpx.get(seg), httpx.get(seg)
    assert first.status_code == second.status_code == 200
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert (first.headers["x-cache"], second.headers["x-cache"]) == ("MISS", "HIT")
    assert first.content == second.content
    playlist = httpx.get(_url(stack, ready_video, "media_1.m3u8"))
    assert playlist.headers["cache-control"] == "public, max-age=60"
    mpd = httpx.get(_url(stack, ready_video, "manifest.mpd"))
    assert mpd.headers["cache-control"] == "public, max-age=60"


def test_token_is_not_part_of_the_cache_key(stack: Stack, ready_video: str) -> None:
    key = f"media/{ready_video}/r2/seg-00003.m4s"
    a = httpx.get(_url(stack, ready_video, "r2/seg-00003.m4s", ttl=600))
    b = httpx.get(_url(stack, ready_video, "r2/seg-00003.m4s", ttl=900))  # another token
    assert a.headers["x-cache"] == "MISS" and b.headers["x-cache"] == "HIT"
    assert stack.fetches(key) == 1


def test_stampede_on_an_uncached_segment_is_one_origin_fetch(
    stack: Stack, ready_video: str
) -> None:
    name = "r2/seg-00001.m4s"
    key = f"media/{ready_video}/{name}"
    url = _url(stack, ready_video, name)
    assert stack.fetches(key) == 0

    async def herd(n: int) -> list[httpx.Response]:
        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        async with httpx.AsyncClient(limits=limits, timeout=60) as client:
            return await asyncio.gather(*(client.get(url) for _ in range(n)))

    responses = asyncio.run(herd(200))
    assert all(r.status_code == 200 for r in responses)
    assert len({r.content for r in responses}) == 1
    assert stack.fetches(key) == 1
    statuses = {r.headers["x-cache"] for r in responses}
    assert statuses <= {"MISS", "HIT", "UPDATING"}


def test_a_herd_on_a_missing_object_is_answered_at_once(stack: Stack, ready_video: str) -> None:
    import time

    name = "r0/seg-99999.m4s"
    url = _url(stack, ready_video, name)

    async def herd(n: int) -> list[httpx.Response]:
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=n), timeout=60) as client:
            return await asyncio.gather(*(client.get(url) for _ in range(n)))

    missing_before = stack.missing_fetches()
    started = time.monotonic()
    responses = asyncio.run(herd(50))
    assert {r.status_code for r in responses} == {404}
    assert time.monotonic() - started < 5  # not 50 waiters x 500 ms one after another
    assert stack.missing_fetches() == missing_before + 1
    assert stack.fetches(f"media/{ready_video}/{name}") == 0  # no count of its own


def test_hls_ts_on_request_shares_pids_across_rungs(stack: Stack, ready_video: str) -> None:
    import json
    import subprocess

    master = httpx.get(_url(stack, ready_video, "ts/master.m3u8"))
    assert master.status_code == 200 and master.text.count("#EXT-X-STREAM-INF") == 3
    store = stack.data_dir / "store" / "media" / ready_video / "ts"
    pids = []
    for rung in ("r0", "r2"):
        out = subprocess.run(
            [
                "ffprobe",
                "-v",
                "error",
                "-show_entries",
                "stream=id,codec_type",
                "-of",
                "json",
                str(store / rung / "seg-00001.ts"),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        pids.append(sorted((s["codec_type"], s["id"]) for s in json.loads(out.stdout)["streams"]))
    assert pids[0] == pids[1]


def test_a_web_page_on_another_origin_may_read_media_errors_and_the_clock(
    stack: Stack, ready_video: str
) -> None:
    for name in ("master.m3u8", "media_0.m3u8", "manifest.mpd", "r0/init.m4s", "r0/seg-00001.m4s"):
        resp = httpx.get(_url(stack, ready_video, name), headers=PAGE)
        assert resp.status_code == 200, name
        assert resp.headers["access-control-allow-origin"] == "*", name
        assert resp.headers["timing-allow-origin"] == "*", name
    # dash.js reads the MPD's Date when UTCTiming fails, and a ranged answer's Content-Range.
    exposed = resp.headers["access-control-expose-headers"]
    assert {"Date", "Content-Range"} <= set(exposed.replace(" ", "").split(","))
    # A refusal or a miss is a status the player can act on (re-sign, retry), not an opaque
    # network error.
    forged = f"/t/{make_token('wrong-secret', ready_video, 2**31)}/media/{ready_video}/x.m4s"
    missing = _url(stack, ready_video, "r0/seg-99998.m4s")
    for url, status in ((stack.edge + forged, 403), (missing, 404)):
        resp = httpx.get(url, headers=PAGE)
        assert (resp.status_code, resp.headers.get("access-control-allow-origin")) == (status, "*")
    # UTCTiming in live MPDs points here.
    clock = httpx.get(stack.edge + api_paths.TIME, headers=PAGE)
    assert clock.status_code == 200 and clock.headers["access-control-allow-origin"] == "*"


def test_a_preflight_is_answered_at_the_edge_and_leaves_signing_and_caching_alone(
    stack: Stack, ready_video: str
) -> None:
    name = "r0/seg-00002.m4s"
    key = f"media/{ready_video}/{name}"
    url = _url(stack, ready_video, name)
    before = stack.fetches(key)
    ask = {
        **PAGE,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "range",
    }
    preflight = httpx.options(url, headers=ask)
    assert preflight.status_code == 204
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "GET" in preflight.headers["access-control-allow-methods"]
    assert "range" in preflight.headers["access-control-allow-headers"].lower()
    assert stack.fetches(key) == before  # neither the origin nor a cache saw it
    ranged = [httpx.get(url, headers={**PAGE, "Range": "bytes=0-99"}) for _ in range(2)]
    assert [r.status_code for r in ranged] == [206, 206]
    assert ranged[1].headers["x-cache"] == "HIT" and len(ranged[1].content) == 100
    assert ranged[1].headers["access-control-allow-origin"] == "*"
    # The signature is still checked on the request that follows the preflight.
    forged = url.replace("/t/", "/t/1", 1)
    assert httpx.options(forged, headers=ask).status_code == 204
    assert httpx.get(forged, headers=PAGE).status_code == 403
    # A licence or API call with a bearer token asks first too.
    licence = httpx.options(
        stack.edge + api_paths.CLEARKEY_LICENSE,
        headers={
            **PAGE,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert licence.status_code == 204
    allowed = licence.headers["access-control-allow-headers"].lower()
    assert "POST" in licence.headers["access-control-allow-methods"]
    assert "authorization" in allowed and "content-type" in allowed
