"""Encrypted titles: segments do not decode without the key, and do with the key the
license / HLS key endpoints hand to the right user only."""

from __future__ import annotations

import base64
import re
import subprocess
from pathlib import Path

import httpx
import pytest

from backend.helpers import Stack, ingest


@pytest.fixture(scope="module")
def encrypted_video(stack: Stack, clip: Path) -> str:
    return ingest(stack, clip, "Encrypted Pattern", options=(("encrypt", True), ("hls_ts", True)))


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
