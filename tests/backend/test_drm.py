"""Encrypted titles: segments do not decode without the key, and do with the key the
license / HLS key endpoints hand to the right user only."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import httpx
import m3u8
import pytest

from abr.manifests import (
    HlsKey,
    dash_content_protection,
    hls_segment_keys,
    media_playlist_urls,
    parse_hls,
)
from backend.helpers import Stack, ingest


@pytest.fixture(scope="module")
def encrypted_video(stack: Stack, clip: Path, tones: dict[str, Path]) -> str:
    return ingest(
        stack,
        clip,
        "Encrypted Pattern",
        audio=(("fr", tones["fr"]),),
        options=(("encrypt", True), ("hls_ts", True)),
    )


def _decode_errors(path: Path, *key_args: str) -> str:
    proc = subprocess.run(
        ["ffmpeg", "-v", "error", *key_args, "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
    )
    return (
        proc.stderr.strip()
        if proc.returncode == 0
        else proc.stderr.strip() or f"exit {proc.returncode}"
    )


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_cenc_segments_need_the_clearkey_license(
    stack: Stack, encrypted_video: str, alice: dict[str, str], bob: dict[str, str], tmp_path: Path
) -> None:
    m = httpx.get(f"{stack.api}/api/v1/videos/{encrypted_video}/manifest", headers=alice).json()
    drm = m["drm"]
    assert (
        drm["encryption"] == {"cmaf": "cenc", "hls-ts": "aes-128"}
        and drm["key_system"] == "org.w3.clearkey"
    )
    mpd = httpx.get(m["dash_manifest_url"]).text
    assert 'value="cenc"' in mpd and "e2719d58-a985-b3c9-781a-b030af78d30e" in mpd
    base = m["master_playlist_url"].rsplit("/", 1)[0]
    media = tmp_path / "r1.mp4"
    media.write_bytes(
        httpx.get(f"{base}/r1/init.m4s").content + httpx.get(f"{base}/r1/seg-00002.m4s").content
    )
    assert _decode_errors(media) != ""  # encrypted samples are garbage to a decoder

    request = {
        "kids": [drm["key_id"]],
        "type": "temporary",
        "playback_session_id": m["playback_session_id"],
    }
    assert httpx.post(drm["license_url"], json=request).status_code == 401
    assert (
        httpx.post(drm["license_url"], json=request, headers=bob).status_code == 403
    )  # not bob's session
    wrong_kid = {**request, "kids": [base64.urlsafe_b64encode(b"\0" * 16).decode().rstrip("=")]}
    assert httpx.post(drm["license_url"], json=wrong_kid, headers=alice).status_code == 403
    lic = httpx.post(drm["license_url"], json=request, headers=alice)
    assert lic.status_code == 200 and lic.headers["cache-control"] == "no-store"
    (jwk,) = lic.json()["keys"]
    assert jwk["kty"] == "oct" and jwk["kid"] == drm["key_id"]
    key_hex = _b64url_decode(jwk["k"]).hex()
    assert _decode_errors(media, "-decryption_key", key_hex) == ""


def test_hls_ts_aes128_segments_need_the_key_endpoint(
    stack: Stack, encrypted_video: str, alice: dict[str, str], bob: dict[str, str], tmp_path: Path
) -> None:
    m = httpx.get(f"{stack.api}/api/v1/videos/{encrypted_video}/manifest", headers=alice).json()
    playlist_url = m["hls_ts_playlist_url"].replace("master.m3u8", "r0/index.m3u8")
    playlist = httpx.get(playlist_url).text
    key_line = re.search(
        r'#EXT-X-KEY:METHOD=AES-128,URI="(?P<uri>[^"]+)"(?:,IV=0x(?P<iv>[0-9a-fA-F]+))?', playlist
    )
    assert key_line is not None, playlist
    assert (
        key_line["uri"] == f"/api/v1/keys/{encrypted_video}/hls.key"
    )  # host-relative: via the edge
    key_url = stack.edge + key_line["uri"]
    assert httpx.get(key_url).status_code == 401
    assert httpx.get(key_url, headers=bob).status_code == 403  # bob has no session for this title
    key = httpx.get(key_url, headers={**alice, "X-Playback-Session": m["playback_session_id"]})
    assert key.status_code == 200 and len(key.content) == 16
    seg = tmp_path / "seg.ts"
    seg.write_bytes(httpx.get(playlist_url.replace("index.m3u8", "seg-00000.ts")).content)
    assert _decode_errors(seg) != ""
    iv = key_line["iv"] or f"{0:032x}"  # no IV attribute: the media sequence number (0)
    assert _decode_errors(Path(f"crypto:{seg}"), "-key", key.content.hex(), "-iv", iv) == ""
    # The separately uploaded French track is an alternate TS rendition under the same key.
    fr_url = m["hls_ts_playlist_url"].replace("master.m3u8", "a1/index.m3u8")
    fr_playlist = httpx.get(fr_url).text
    assert 'LANGUAGE="fr"' in httpx.get(m["hls_ts_playlist_url"]).text
    assert f'METHOD=AES-128,URI="/api/v1/keys/{encrypted_video}/hls.key"' in fr_playlist
    fr_seg = tmp_path / "fr.ts"
    fr_seg.write_bytes(httpx.get(fr_url.replace("index.m3u8", "seg-00000.ts")).content)
    assert _decode_errors(Path(f"crypto:{fr_seg}"), "-key", key.content.hex(), "-iv", iv) == ""


def _hls_keys(master_url: str) -> tuple[dict[str, HlsKey], dict[str, str]]:
    """The EXT-X-KEY of every media playlist of a master (video renditions and audio
    tracks), read with the project's own HLS parser; and one segment URL per playlist."""
    master = httpx.get(master_url).text
    playlists = {u: httpx.get(u).text for u in media_playlist_urls(master, master_url)}
    presentation = parse_hls(master, master_url, playlists)
    keys: dict[str, HlsKey] = {}
    segments: dict[str, str] = {}
    for rid, per_segment in hls_segment_keys(master, master_url, playlists).items():
        assert len(set(per_segment)) == 1 and per_segment[0] is not None  # every segment
        keys[f"video {rid}"] = per_segment[0]
        rendition = next(r for r in presentation.renditions if r.id == rid)
        segments[f"video {rid}"] = rendition.segments[1].url
    for track in presentation.audio_tracks:
        # parse_hls wants a BANDWIDTH for a lone media playlist; m3u8 (which it wraps) reads
        # the audio playlists' tags directly.
        assert track.url is not None
        playlist = m3u8.loads(httpx.get(track.url).text, uri=track.url)
        key = playlist.segments[0].key
        assert key is not None and all(seg.key is key for seg in playlist.segments), track.url
        keys[f"audio {track.name}"] = HlsKey(
            str(key.method), key.absolute_uri, None, key.keyformat, key.keyformatversions
        )
        segments[f"audio {track.name}"] = playlist.segments[1].absolute_uri
    return keys, segments


def _decodes_with(segment_url: str, key_hex: str | None, tmp_path: Path) -> bool:
    init = segment_url.rsplit("/", 1)[0] + "/init.m4s"
    media = tmp_path / (segment_url.rsplit("/", 2)[-2] + ".mp4")
    media.write_bytes(httpx.get(init).content + httpx.get(segment_url).content)
    return _decode_errors(media, *(["-decryption_key", key_hex] if key_hex else [])) == ""


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_cmaf_hls_playlists_signal_the_key_the_api_serves(
    scheme: str, request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    if scheme == "cenc":
        stack: Stack = request.getfixturevalue("stack")
        video: str = request.getfixturevalue("encrypted_video")
    else:
        # The cbcs title is the PostgreSQL + S3 deployment's (packaged, then published to S3).
        stack = request.getfixturevalue("deployed")[0]
        video = request.getfixturevalue("deployed_video")
    alice = {"Authorization": f"Bearer {stack.token('alice')}"}
    bob = {"Authorization": f"Bearer {stack.token('bob')}"}
    m = httpx.get(f"{stack.api}/api/v1/videos/{video}/manifest", headers=alice).json()
    assert m["drm"]["encryption"]["cmaf"] == scheme
    keys, segments = _hls_keys(m["master_playlist_url"])
    expected_tracks = {"video 0", "video 1", "video 2", "audio und"}
    assert expected_tracks | ({"audio fr"} if scheme == "cenc" else set()) == set(keys)
    key_uri = f"{stack.edge}/api/v1/keys/{video}/hls.key"  # host-relative, resolved at the edge
    method = {"cenc": "SAMPLE-AES-CTR", "cbcs": "SAMPLE-AES"}[scheme]
    for track, key in keys.items():
        assert (key.method, key.uri, key.key_format) == (method, key_uri, "identity"), track
    assert httpx.get(key_uri).status_code == 401
    assert httpx.get(key_uri, headers=bob).status_code == 403  # no playback session of bob's
    served = httpx.get(key_uri, headers=alice)
    assert served.status_code == 200 and len(served.content) == 16
    lic = httpx.post(
        m["drm"]["license_url"],
        headers=alice,
        json={"kids": [m["drm"]["key_id"]], "playback_session_id": m["playback_session_id"]},
    ).json()
    assert _b64url_decode(lic["keys"][0]["k"]) == served.content  # one key, two doors
    # The DASH side still carries the protection for EME players.
    mpd_url = m["dash_manifest_url"]
    protection = dash_content_protection(httpx.get(mpd_url).text, mpd_url)
    for descriptors in protection.values():
        assert {(d.scheme_id_uri, d.value) for d in descriptors} >= {
            ("urn:mpeg:dash:mp4protection:2011", scheme),
            ("urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e", "ClearKey1.0"),
        }
    # Decryptable with exactly the key the playlist's URI served, video and audio alike.
    for track in ("video 1", "audio und"):
        assert not _decodes_with(segments[track], None, tmp_path), track
        assert _decodes_with(segments[track], served.content.hex(), tmp_path), track
