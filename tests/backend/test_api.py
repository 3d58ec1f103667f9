"""Login, manifest contract, device cap, JWT and signed-URL rejection."""

from __future__ import annotations

import time

import httpx
import pytest

from backend.helpers import Stack
from backend_stub.auth import Principal, issue_token
from backend_stub.signing import make_token, signed_path


def test_login_returns_a_bearer_jwt_and_rejects_a_wrong_password(stack: Stack) -> None:
    ok = httpx.post(
        f"{stack.api}/api/v1/auth/token", json={"username": "alice", "password": "alice-pw"}
    )
    assert ok.status_code == 200
    body = ok.json()
    assert (
        body["token_type"] == "bearer"
        and body["expires_in"] > 0
        and body["access_token"].count(".") == 2
    )
    bad = httpx.post(
        f"{stack.api}/api/v1/auth/token", json={"username": "alice", "password": "nope"}
    )
    assert bad.status_code == 401
    assert "wrong username or password" in bad.json()["detail"]


def test_errors_are_json_with_error_and_detail_and_a_bad_payload_names_the_field(
    stack: Stack, ready_video: str, alice: dict[str, str]
) -> None:
    missing = httpx.get(f"{stack.api}/api/v1/videos/nope")
    assert missing.status_code == 404
    assert missing.json() == {"error": "not_found", "detail": "no video 'nope'"}
    no_jwt = httpx.get(f"{stack.api}/api/v1/videos/nope/manifest")
    assert no_jwt.status_code == 401 and no_jwt.json()["error"] == "unauthorized"
    bad = httpx.post(
        f"{stack.api}/api/v1/playback/progress",
        headers=alice,
        json={"video_id": "v", "playback_session_id": "s", "offset_seconds": -1, "reported_at": 0},
    )
    assert bad.status_code == 422 and bad.json()["error"] == "invalid_request"
    detail = bad.json()["detail"]
    assert "body.offset_seconds" in detail and "body.device_id: Field required" in detail
    # Search is a substring match: % and _ are literal characters, not wildcards.
    assert httpx.get(f"{stack.api}/api/v1/videos", params={"q": "pattern"}).json()["videos"]
    everything = httpx.get(f"{stack.api}/api/v1/videos", params={"q": "%"}).json()["videos"]
    assert everything == []


def test_manifest_contract_signed_url_through_the_edge(
    stack: Stack, ready_video: str, alice: dict[str, str]
) -> None:
    resp = httpx.get(
        f"{stack.api}/api/v1/videos/{ready_video}/manifest",
        headers={**alice, "X-Device-Type": "smarttv"},
    )
    assert resp.status_code == 200, resp.text
    m = resp.json()
    for key in (
        "video_id",
        "title",
        "playback_session_id",
        "duration_seconds",
        "master_playlist_url",
        "subtitles",
        "audio_tracks",
    ):
        assert key in m, key
    assert m["video_id"] == ready_video and m["title"] == "Fixture Pattern"
    assert abs(m["duration_seconds"] - 10.0) < 0.2
    assert m["master_playlist_url"].startswith(f"{stack.edge}/t/")
    assert m["master_playlist_url"].endswith(f"/media/{ready_video}/master.m3u8")
    assert [s["language"] for s in m["subtitles"]] == ["en"]
    assert m["audio_tracks"] and m["intro"] == {"start_seconds": 1.0, "end_seconds": 4.0}
    master = httpx.get(m["master_playlist_url"])
    assert master.status_code == 200
    assert master.text.count("#EXT-X-STREAM-INF") == 3  # 240, 360, 480 from a 480p source
    assert "TYPE=SUBTITLES" in master.text
    mpd = httpx.get(m["dash_manifest_url"])
    assert mpd.status_code == 200 and "<MPD" in mpd.text and 'mimeType="text/vtt"' in mpd.text
    # Relative links resolve under the same token prefix: the playlist needs no rewriting.
    media0 = httpx.get(m["master_playlist_url"].replace("master.m3u8", "media_0.m3u8"))
    assert media0.status_code == 200 and "#EXT-X-PLAYLIST-TYPE:VOD" in media0.text
    sub = httpx.get(m["subtitles"][0]["url"])
    assert sub.status_code == 200 and "Hello from the test pattern" in sub.text


def test_device_type_caps_the_ladder(stack: Stack, ready_video: str, alice: dict[str, str]) -> None:
    m = httpx.get(
        f"{stack.api}/api/v1/videos/{ready_video}/manifest",
        headers={**alice, "X-Device-Type": "mobile"},
    ).json()  # serve ran with mobile=360
    assert m["max_height"] == 360 and [r["height"] for r in m["renditions"]] == [240, 360]
    master = httpx.get(m["master_playlist_url"]).text
    assert master.count("#EXT-X-STREAM-INF") == 2 and "x480" not in master
    mpd = httpx.get(m["dash_manifest_url"]).text
    assert 'height="480"' not in mpd and 'height="360"' in mpd
    unknown = httpx.get(
        f"{stack.api}/api/v1/videos/{ready_video}/manifest",
        headers={**alice, "X-Device-Type": "toaster"},
    )
    assert unknown.status_code == 400 and "toaster" in unknown.json()["detail"]


def test_missing_forged_and_expired_jwt_get_401(stack: Stack, ready_video: str) -> None:
    url = f"{stack.api}/api/v1/videos/{ready_video}/manifest"
    assert httpx.get(url).status_code == 401
    assert httpx.get(url, headers={"Authorization": "Bearer not.a.jwt"}).status_code == 401
    forged = issue_token(
        "some-other-secret-that-is-long-enough-for-hs256", Principal(1, "alice"), 3600
    )
    assert httpx.get(url, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    expired = issue_token(
        stack.config.jwt_secret, Principal(1, "alice"), 60, now=time.time() - 3600
    )
    resp = httpx.get(url, headers={"Authorization": f"Bearer {expired}"})
    assert resp.status_code == 401 and "expired" in resp.json()["detail"]


def test_forged_expired_and_cross_title_urls_get_403_and_never_reach_origin_disk(
    stack: Stack, ready_video: str
) -> None:
    cfg = stack.config
    key = f"media/{ready_video}/r1/seg-00002.m4s"
    before = stack.fetches(key)
    good = signed_path(cfg.url_signing_secret, ready_video, "r1/seg-00002.m4s", 600)
    forged_tok = make_token("wrong-secret", ready_video, int(time.time()) + 600)
    expired = signed_path(cfg.url_signing_secret, ready_video, "r1/seg-00002.m4s", -10)
    other_title = signed_path(cfg.url_signing_secret, "0123456789ab", "master.m3u8", 600)
    reused = other_title.replace(
        "/media/0123456789ab/master.m3u8", f"/media/{ready_video}/r1/seg-00002.m4s"
    )
    for path in (f"/t/{forged_tok}/{key}", expired, reused, f"/{key}"):
        for base in (stack.edge, stack.origin):
            assert httpx.get(base + path).status_code in (403, 404), (base, path)
            if base == stack.edge:
                assert httpx.get(base + path).status_code == 403, path
    assert stack.fetches(key) == before  # none of them was served from the origin's store
    assert httpx.get(stack.edge + good).status_code == 200


def test_every_source_audio_track_reaches_both_manifests(
    stack: Stack, alice: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    import subprocess

    from backend.helpers import ingest

    clip = tmp_path_factory.mktemp("audio") / "two-languages.mp4"
    subprocess.run(
        ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30",
         "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
         "-f", "lavfi", "-i", "sine=frequency=660:sample_rate=48000", "-t", "4",
         "-map", "0:v", "-map", "1:a", "-map", "2:a", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-metadata:s:a:0", "language=eng", "-metadata:s:a:1", "language=fra", str(clip)],
        check=True,
    )  # fmt: skip
    video = ingest(stack, clip, "Two Languages")
    m = httpx.get(f"{stack.api}/api/v1/videos/{video}/manifest", headers=alice).json()
    assert [(t["language"], t["default"]) for t in m["audio_tracks"]] == [
        ("eng", True),
        ("fra", False),
    ]
    master = httpx.get(m["master_playlist_url"]).text
    assert 'LANGUAGE="eng"' in master and 'LANGUAGE="fra"' in master
    mpd = httpx.get(m["dash_manifest_url"]).text
    assert 'lang="eng"' in mpd and 'lang="fra"' in mpd
