"""Chunked resumable upload through the real API."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from backend.helpers import Stack, make_clip
from backend_stub.client import ApiClient, IngestRequest, sha256_file
from backend_stub.errors import BackendError

CHUNK = 64 * 1024


@pytest.fixture(scope="module")
def small_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("small") / "small.mp4", seconds=3, size="320x240")


def test_upload_resumes_after_a_cut_without_resending_finished_chunks(
    stack: Stack, small_clip: Path
) -> None:
    size = small_clip.stat().st_size
    assert size > 3 * CHUNK
    client = ApiClient(stack.api, stack.token("alice"))
    upload_id = client.create_upload(
        IngestRequest(path=small_clip, title="Resumed"), sha256_file(small_clip)
    )
    data = small_clip.read_bytes()
    url = f"{stack.api}/api/v1/uploads/{upload_id}"
    headers = {**client.http.headers, "Content-Type": "application/offset+octet-stream"}
    first = httpx.patch(url, content=data[:CHUNK], headers={**headers, "Upload-Offset": "0"})
    assert first.status_code == 204 and first.headers["Upload-Offset"] == str(CHUNK)

    def cut_after_half() -> Iterator[bytes]:
        yield data[CHUNK : CHUNK + CHUNK // 2]
        raise ConnectionResetError("network cut mid-chunk")

    with pytest.raises((ConnectionResetError, httpx.HTTPError)):
        httpx.patch(url, content=cut_after_half(), headers={**headers, "Upload-Offset": str(CHUNK)})
    assert client.offset(upload_id) == CHUNK  # the half chunk does not count

    # A stale client that re-sends from 0 is told where the server is.
    stale = httpx.patch(url, content=data[:CHUNK], headers={**headers, "Upload-Offset": "0"})
    assert stale.status_code == 409 and str(CHUNK) in stale.json()["detail"]

    sent = client.send(upload_id, small_clip, chunk_size=CHUNK)
    assert sent == size - CHUNK
    video_id = client.complete(upload_id)
    assert client.complete(upload_id) == video_id  # completing twice is harmless
    stored = stack.data_dir / "store" / "raw" / video_id / "source.mp4"
    assert stored.read_bytes() == data
    client.close()


def test_racing_completes_of_one_upload_make_one_title_and_lose_nothing(
    stack: Stack, tones: dict[str, Path], tmp_path: Path
) -> None:
    """A client that timed out and retried (or two at once): every complete gets the same
    video, the losers leave no stray objects, the subtitles and audio reach the title."""
    vtt = tmp_path / "en.vtt"
    vtt.write_text("WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nraced\n")
    # Big enough that hashing and storing it takes a while: the completes overlap. (Not a
    # video: its job will fail, which does not matter here.)
    big = tmp_path / "raced.mp4"
    big.write_bytes(os.urandom(32 * 1024 * 1024))
    client = ApiClient(stack.api, stack.token("alice"))
    req = IngestRequest(
        path=big, title="Raced", subtitles=(("en", vtt),), audio=(("fr", tones["fr"]),)
    )
    upload_id = client.create_upload(req, sha256_file(big))
    client.send(upload_id, big)
    barrier = threading.Barrier(6)
    answers: list[tuple[int, str]] = []

    def complete() -> None:
        barrier.wait()
        resp = httpx.post(
            f"{stack.api}/api/v1/uploads/{upload_id}/complete",
            headers=dict(client.http.headers),
            timeout=60,
        )
        answers.append((resp.status_code, resp.json().get("video_id")))

    threads = [threading.Thread(target=complete) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    client.close()
    assert len(answers) == 6 and {code for code, _ in answers} == {200}
    (video_id,) = {vid for _, vid in answers}
    catalog = httpx.get(f"{stack.api}/api/v1/videos").json()["videos"]
    assert [v["video_id"] for v in catalog if v["title"] == "Raced"] == [video_id]
    raw = stack.data_dir / "store" / "raw"
    assert {d.name for d in raw.iterdir()} <= {v["video_id"] for v in catalog}  # no orphans
    assert sorted(
        p.relative_to(raw / video_id).as_posix() for p in (raw / video_id).rglob("*.*")
    ) == [
        "audio/00.fr.m4a",
        "source.mp4",
        "subtitles/en.vtt",
    ]
    assert (raw / video_id / "source.mp4").read_bytes() == big.read_bytes()


def test_checksum_mismatch_is_refused_with_both_digests(stack: Stack, small_clip: Path) -> None:
    client = ApiClient(stack.api, stack.token("alice"))
    upload_id = client.create_upload(IngestRequest(path=small_clip, title="Corrupt"), "0" * 64)
    client.send(upload_id, small_clip, chunk_size=1 << 20)
    with pytest.raises(BackendError, match="checksum mismatch: declared sha256 0000"):
        client.complete(upload_id)
    client.close()


def test_uploads_need_a_token_and_are_private(
    stack: Stack, small_clip: Path, bob: dict[str, str]
) -> None:
    anon = httpx.post(f"{stack.api}/api/v1/uploads", json={})
    assert anon.status_code == 401
    client = ApiClient(stack.api, stack.token("alice"))
    upload_id = client.create_upload(
        IngestRequest(path=small_clip, title="Private"), sha256_file(small_clip)
    )
    assert httpx.head(f"{stack.api}/api/v1/uploads/{upload_id}", headers=bob).status_code == 404
    bad_opt = client.http.post(
        "/api/v1/uploads",
        json={
            "filename": "x.mp4",
            "size": 10,
            "sha256": "0" * 64,
            "title": "x",
            "options": {"colour": "red"},
        },
    )
    assert bad_opt.status_code == 422 and "colour" in bad_opt.text
    client.close()


def test_ingest_command_uploads_and_waits_until_ready(
    stack: Stack, small_clip: Path, tmp_path: Path
) -> None:
    import json
    import subprocess
    import sys

    from backend.helpers import REPO

    base = [
        sys.executable,
        "-m",
        "streamlab.commands.ingest",
        str(small_clip),
        "--api",
        stack.api,
        "--username",
        "alice",
        "--password",
        "alice-pw",
        "--data-dir",
        str(tmp_path),
    ]
    done = subprocess.run(
        [*base, "--title", "Ingested", "--intro", "0:01-0:02", "--chunk-mib", "1"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["status"] == "READY" and abs(result["duration_seconds"] - 3.0) < 0.2
    video = httpx.get(f"{stack.api}/api/v1/videos/{result['video_id']}").json()
    assert video["title"] == "Ingested" and video["intro"] == {
        "start_seconds": 1.0,
        "end_seconds": 2.0,
    }
    bad = subprocess.run(
        [*base, "--title", "x", "--intro", "0:05-0:02"],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )
    assert bad.returncode == 2 and "the end must come after the start" in bad.stderr


def test_a_file_ffmpeg_cannot_read_ends_failed_with_the_reason(
    stack: Stack, tmp_path: Path
) -> None:
    junk = tmp_path / "not-a-video.mp4"
    junk.write_bytes(b"this is not a video\n" * 100)
    client = ApiClient(stack.api, stack.token("alice"))
    upload_id = client.create_upload(IngestRequest(path=junk, title="Junk"), sha256_file(junk))
    client.send(upload_id, junk)
    video_id = client.complete(upload_id)
    with pytest.raises(BackendError, match=r"failed to transcode: ffprobe cannot read source\.mp4"):
        client.wait_ready(video_id, timeout=60)
    video = client.video(video_id)
    assert video["status"] == "FAILED" and "ffprobe cannot read" in video["error"]
    client.close()
