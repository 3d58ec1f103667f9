"""Live segment encryption (`backend_stub.live.encrypt`) on real ffmpeg dash-muxer output
and the real Shaka Packager: encrypted segments do not decode without the key, decode
cleanly with it, and keep their media times; the init segment packager writes with one
segment decrypts the others, so one per run can be published. Then a real
`serve --live-channel --encrypt` (encoder, packager, origin, shield, edge): what its
manifests signal, and that what the edge serves decodes only with the licence's key."""

from __future__ import annotations

import base64
import re
import subprocess
import time
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from shaka_packager import packager

from backend.helpers import Stack, start_serve, stop_serve
from backend.test_live import _encoders
from backend_stub.auth import create_user
from backend_stub.db import session_factory
from backend_stub.errors import TranscodeError
from backend_stub.live.encrypt import ChannelKey, ClearSegment, encrypt_segments
from backend_stub.models import Video

KEY = ChannelKey("0123456789abcdef0123456789abcdef", "00112233445566778899aabbccddeeff", "cenc")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What the live encoder writes for one run: r0 video, r1 audio, 2 s CMAF segments."""
    packager()  # skips without Shaka Packager
    out = tmp_path_factory.mktemp("run")
    for track in ("r0", "r1"):
        (out / track).mkdir()
    cmd = ["ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25"]
    cmd += ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000", "-t", "6"]
    cmd += ["-map", "0:v", "-map", "1:a", "-c:v", "libx264", "-preset", "ultrafast"]
    cmd += ["-force_key_frames", "expr:gte(t,n_forced*2)", "-x264-params", "repeat-headers=1"]
    cmd += ["-c:a", "aac", "-f", "dash", "-seg_duration", "2", "-use_timeline", "1"]
    cmd += ["-init_seg_name", "r$RepresentationID$/init.m4s"]
    cmd += ["-media_seg_name", "r$RepresentationID$/seg-$Number%05d$.m4s"]
    subprocess.run([*cmd, str(out / "manifest.mpd")], check=True, timeout=120)
    return out


def _joined(tmp: Path, name: str, init: Path, media: Path) -> Path:
    path = tmp / name
    path.write_bytes(init.read_bytes() + media.read_bytes())
    return path


def _decode(path: Path, *key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["ffmpeg", "-v", "error", *key, "-i", str(path), "-f", "null", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def _pts(path: Path, *key: str) -> list[str]:
    proc = subprocess.run(
        ["ffprobe", "-v", "error", *key, "-show_entries", "packet=pts_time", "-of", "csv=p=0",
         str(path)],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return proc.stdout.split()


def _boxes(data: bytes, inside: bytes = b"moov") -> dict[bytes, bytes]:
    """The top-level boxes of an init segment and the children of `inside`."""
    found: dict[bytes, bytes] = {}
    at = 0
    while at < len(data):
        size = int.from_bytes(data[at : at + 4], "big")
        kind = data[at + 4 : at + 8]
        found[kind] = data[at : at + size]
        if kind == inside:
            found.update(_boxes(data[at + 8 : at + size], b""))
        at += size
    return found


@pytest.mark.parametrize("scheme", ["cenc", "cbcs"])
def test_segments_decode_only_with_the_key_and_keep_their_times(
    run_dir: Path, tmp_path: Path, scheme: str
) -> None:
    key = ChannelKey(KEY.kid, KEY.key, scheme)
    clear = [
        ClearSegment(kind, run_dir / f"r{i}" / "init.m4s", run_dir / f"r{i}" / f"seg-{n:05d}.m4s")
        for n in (2, 3)
        for i, kind in enumerate(("video", "audio"))
    ]
    out = encrypt_segments(clear, key, tmp_path / "scratch")
    assert len(out) == 4
    with_key = ("-decryption_key", key.key)
    for n, (c, e) in enumerate(zip(clear, out, strict=True)):
        plain = _joined(tmp_path, f"c{n}.mp4", c.init, c.media)
        locked = _joined(tmp_path, f"e{n}.mp4", e.init, e.media)
        assert _decode(plain).stderr == ""  # the clear input is sound
        without = _decode(locked)
        assert without.returncode != 0 or without.stderr != "", c  # garbage to a decoder
        right = _decode(locked, *with_key)
        assert (right.returncode, right.stderr) == (0, ""), c
        wrong = _decode(locked, "-decryption_key", "ff" * 16)
        assert wrong.returncode != 0 or wrong.stderr != "", c
        # Media times are the encoder's: the publisher's timeline still holds.
        assert _pts(locked, *with_key) == _pts(plain), c
        init = _boxes(e.init.read_bytes())
        assert b"pssh" in init and base64.b64encode(init[b"pssh"]).decode() == key.pssh_b64
        assert bytes.fromhex(key.kid) in e.init.read_bytes()
    # One init per track and run: the init packager wrote with segment 2 decrypts segment 3.
    for first, second, plain in ((out[0], out[2], clear[2]), (out[1], out[3], clear[3])):
        crossed = _joined(tmp_path, "crossed.mp4", first.init, second.media)
        assert _decode(crossed, *with_key).stderr == ""
        assert _pts(crossed, *with_key) == _pts(_joined(tmp_path, "p.mp4", plain.init, plain.media))


def test_a_segment_packager_cannot_read_is_an_error_naming_packager(
    run_dir: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.m4s"
    junk.write_bytes(b"\0" * 64)
    with pytest.raises(TranscodeError, match="Shaka Packager"):
        encrypt_segments([ClearSegment("video", junk, junk)], KEY, tmp_path / "scratch")


def test_a_channel_key_refuses_an_unknown_scheme() -> None:
    with pytest.raises(ValueError, match="'aes' is not one of"):
        ChannelKey(KEY.kid, KEY.key, "aes")


@pytest.fixture(scope="module")
def locked(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, dict[str, str]]]:
    """An encrypted channel, READY; and alice's manifest-endpoint answer for it."""
    packager()
    data_dir = tmp_path_factory.mktemp("live-locked")
    proc, info = start_serve(
        data_dir, "--workers", "1", "--live-channel", "locked", "--encrypt",
        "--live-segment-seconds", "2", "--live-dvr-seconds", "10",
    )  # fmt: skip
    stack = Stack(data_dir, info["api"], info["edge"], info["shield"], info["origin"], proc)
    sessions = session_factory(stack.config.database_url)
    create_user(sessions, "alice", "alice-pw")
    create_user(sessions, "bob", "bob-pw")
    sessions.kw["bind"].dispose()
    headers = {"Authorization": f"Bearer {stack.token('alice')}"}
    deadline = time.monotonic() + 40
    while True:
        resp = httpx.get(f"{stack.api}/api/v1/videos/live-locked/manifest", headers=headers)
        if resp.status_code == 200:
            break
        assert time.monotonic() < deadline, resp.text
        time.sleep(0.5)
    yield stack, resp.json()
    assert stop_serve(proc) == 0


def test_an_encrypted_channel_signals_its_key_and_decodes_only_with_the_licence(
    locked: tuple[Stack, dict[str, object]], tmp_path: Path
) -> None:
    stack, m = locked
    alice = {"Authorization": f"Bearer {stack.token('alice')}"}
    drm = m["drm"]
    assert isinstance(drm, dict)
    assert drm["encryption"] == {"cmaf": "cenc"} and drm["key_system"] == "org.w3.clearkey"
    kid = base64.urlsafe_b64decode(drm["key_id"] + "==").hex()

    mpd = ET.fromstring(httpx.get(str(m["dash_manifest_url"])).text)
    ns = {"d": "urn:mpeg:dash:schema:mpd:2011", "cenc": "urn:mpeg:cenc:2013"}
    for aset in mpd.iterfind(".//d:AdaptationSet", ns):
        schemes = {p.get("schemeIdUri"): p for p in aset.iterfind("d:ContentProtection", ns)}
        mp4 = schemes["urn:mpeg:dash:mp4protection:2011"]
        assert mp4.get("value") == "cenc"
        assert mp4.get("{urn:mpeg:cenc:2013}default_KID") == str(uuid.UUID(hex=kid))
        pssh = schemes["urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b"].findtext(
            "cenc:pssh", "", ns
        )
        assert bytes.fromhex(kid) in base64.b64decode(pssh)
        laurl = schemes["urn:uuid:e2719d58-a985-b3c9-781a-b030af78d30e"][0]
        assert laurl.text == "/api/v1/license/clearkey"

    playlist_url = str(m["master_playlist_url"]).replace("master.m3u8", "media_0.m3u8")
    playlist = httpx.get(playlist_url).text
    tag = re.search(r'#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="([^"]+)".*KEYID=0x(\w+)', playlist)
    assert tag is not None, playlist
    assert tag[2] == kid and playlist.index("#EXT-X-KEY") < playlist.index("#EXT-X-MAP")
    init, first = re.findall(r'URI="(r0/init-\d+\.m4s)"|^(r0/seg-\d+\.m4s)$', playlist, re.M)[:2]
    base = playlist_url.rsplit("/", 1)[0]
    media = tmp_path / "seg.mp4"
    media.write_bytes(
        httpx.get(f"{base}/{init[0]}").content + httpx.get(f"{base}/{first[1]}").content
    )
    without = _decode(media)
    assert without.returncode != 0 or "error while decoding" in without.stderr

    request = {"kids": [drm["key_id"]], "playback_session_id": m["playback_session_id"]}
    bob = {"Authorization": f"Bearer {stack.token('bob')}"}
    assert httpx.post(drm["license_url"], json=request, headers=bob).status_code == 403
    (jwk,) = httpx.post(drm["license_url"], json=request, headers=alice).json()["keys"]
    key = base64.urlsafe_b64decode(jwk["k"] + "==").hex()
    right = _decode(media, "-decryption_key", key)
    assert (right.returncode, right.stderr) == (0, "")
    # The playlist's key URI (through the edge) serves the same key to the same session.
    session = {**alice, "X-Playback-Session": str(m["playback_session_id"])}
    assert httpx.get(stack.edge + tag[1], headers=session).content.hex() == key
    # Every segment of the window (ffmpeg's dash demuxer takes no key, so joined by hand).
    window = tmp_path / "window.mp4"
    window.write_bytes(
        httpx.get(f"{base}/{init[0]}").content
        + b"".join(
            httpx.get(f"{base}/{n}").content for n in re.findall(r"^r0/seg-.*", playlist, re.M)
        )
    )
    assert len(_pts(window)) >= 2 * 2 * 25  # two 2 s segments at least, 25 fps
    right = _decode(window, "-decryption_key", key)
    assert (right.returncode, right.stderr) == (0, "")


def test_after_an_encoder_restart_the_new_run_is_encrypted_with_the_same_key(
    locked: tuple[Stack, dict[str, object]], tmp_path: Path
) -> None:
    stack, m = locked
    playlist_url = str(m["master_playlist_url"]).replace("master.m3u8", "media_0.m3u8")
    for pid in _encoders(stack.data_dir):
        subprocess.run(["kill", "-9", str(pid)], check=True)
    deadline = time.monotonic() + 20
    while "#EXT-X-DISCONTINUITY\n" not in (playlist := httpx.get(playlist_url).text):
        assert time.monotonic() < deadline, playlist
        time.sleep(0.3)
    tail = playlist.split("#EXT-X-DISCONTINUITY\n", 1)[1]
    assert tail.startswith('#EXT-X-MAP:URI="r0/init-1.m4s"')
    assert playlist.count("#EXT-X-KEY") == 1  # one key for every run
    first = re.search(r"^r0/seg-\d+\.m4s$", tail, re.M)
    assert first is not None
    base = playlist_url.rsplit("/", 1)[0]
    media = tmp_path / "after.mp4"
    media.write_bytes(
        httpx.get(f"{base}/r0/init-1.m4s").content + httpx.get(f"{base}/{first[0]}").content
    )
    without = _decode(media)
    assert without.returncode != 0 or "error while decoding" in without.stderr
    # The channel's key as the licence endpoint reads it: the same row as before the restart.
    sessions = session_factory(stack.config.database_url)
    with sessions() as s:
        row = s.get(Video, "live-locked")
        assert row is not None and row.drm_key is not None
        content_key = row.drm_key
    sessions.kw["bind"].dispose()
    right = _decode(media, "-decryption_key", content_key)
    assert (right.returncode, right.stderr) == (0, "")
