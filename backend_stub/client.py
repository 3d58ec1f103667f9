"""HTTP client for the origin API: login, resumable upload, waiting for READY.

Used by `streamlab ingest` and by the tests, so both exercise the real upload protocol.
The operator's client: synchronous, errors as `BackendError`. It does not share the
player's read-side client (`player.api.BackendApi`, async, errors for the UI) because
`backend_stub/` may not import `player/`; the two share the paths (`api_paths`).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

import api_paths as paths
from backend_stub.errors import BackendError

DEFAULT_CHUNK = 8 * 1024 * 1024
COMPLETE_TIMEOUT = 3600.0
ProgressFn = Callable[[int, int], None]  # (bytes on the server, total)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@dataclass(frozen=True)
class IngestRequest:
    path: Path
    title: str
    genre: str = ""
    tags: tuple[str, ...] = ()
    intro: tuple[float, float] | None = None
    subtitles: tuple[tuple[str, Path], ...] = ()  # (language, .vtt file)
    audio: tuple[tuple[str, Path], ...] = ()  # (language, audio file): extra audio tracks
    options: tuple[tuple[str, Any], ...] = ()


def _check(resp: httpx.Response, what: str) -> httpx.Response:
    if resp.status_code >= 400:
        try:
            detail = resp.json().get("detail", resp.text)
        except ValueError:
            detail = resp.text
        raise BackendError(f"{what}: HTTP {resp.status_code}: {detail}")
    return resp


class ApiClient:
    def __init__(self, api: str, token: str | None = None, timeout: float = 60.0) -> None:
        self.api = api.rstrip("/")
        self.http = httpx.Client(base_url=self.api, timeout=timeout)
        if token:
            self.http.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self.http.close()

    def login(self, username: str, password: str) -> str:
        resp = _check(
            self.http.post(paths.AUTH_TOKEN, json={"username": username, "password": password}),
            f"login as {username!r}",
        )
        token: str = resp.json()["access_token"]
        self.http.headers["Authorization"] = f"Bearer {token}"
        return token

    def create_upload(self, req: IngestRequest, sha256: str) -> str:
        body: dict[str, Any] = {
            "filename": req.path.name,
            "size": req.path.stat().st_size,
            "sha256": sha256,
            "title": req.title,
            "genre": req.genre,
            "tags": list(req.tags),
            "options": dict(req.options),
        }
        if req.intro:
            body["intro_start"], body["intro_end"] = req.intro
        resp = _check(
            self.http.post(paths.UPLOADS, json=body), f"creating the upload of {req.path}"
        )
        upload_id: str = resp.json()["upload_id"]
        for language, vtt in req.subtitles:
            _check(
                self.http.post(
                    paths.UPLOAD_SUBTITLES.format(upload_id=upload_id, language=language),
                    content=vtt.read_bytes(),
                    headers={"Content-Type": "text/vtt"},
                ),
                f"uploading subtitles {vtt}",
            )
        for language, track in req.audio:
            with track.open("rb") as fh:
                _check(
                    self.http.post(
                        paths.UPLOAD_AUDIO.format(upload_id=upload_id, language=language),
                        params={"filename": track.name},
                        content=fh,
                        headers={"Content-Type": "application/octet-stream"},
                    ),
                    f"uploading audio track {language}={track}",
                )
        return upload_id

    def offset(self, upload_id: str) -> int:
        resp = _check(
            self.http.head(paths.UPLOAD.format(upload_id=upload_id)),
            f"asking upload {upload_id}'s offset",
        )
        return int(resp.headers["Upload-Offset"])

    def send(
        self,
        upload_id: str,
        path: Path,
        chunk_size: int = DEFAULT_CHUNK,
        on_progress: ProgressFn | None = None,
        chunk_body: Callable[[bytes], bytes | Iterator[bytes]] | None = None,
    ) -> int:
        """Send what the server does not have yet, starting at its offset; returns the
        number of bytes sent (tests check no finished chunk is sent twice)."""
        size = path.stat().st_size
        offset = self.offset(upload_id)
        sent = 0
        with path.open("rb") as fh:
            fh.seek(offset)
            while offset < size:
                chunk = fh.read(chunk_size)
                content = chunk_body(chunk) if chunk_body else chunk
                resp = _check(
                    self.http.patch(
                        paths.UPLOAD.format(upload_id=upload_id),
                        content=content,
                        headers={
                            "Upload-Offset": str(offset),
                            "Content-Type": "application/offset+octet-stream",
                        },
                    ),
                    f"sending bytes {offset}.. of {path}",
                )
                sent += len(chunk)
                offset = int(resp.headers["Upload-Offset"])
                if on_progress:
                    on_progress(offset, size)
        return sent

    def complete(self, upload_id: str) -> str:
        # Completing hashes the whole file and copies it into the object store: minutes for
        # a feature film, so wait for the answer rather than time out and retry.
        resp = _check(
            self.http.post(
                paths.UPLOAD_COMPLETE.format(upload_id=upload_id),
                timeout=httpx.Timeout(60.0, read=COMPLETE_TIMEOUT),
            ),
            f"completing upload {upload_id}",
        )
        video_id: str = resp.json()["video_id"]
        return video_id

    def video(self, video_id: str) -> dict[str, Any]:
        data: dict[str, Any] = _check(
            self.http.get(paths.VIDEO.format(video_id=video_id)), f"reading video {video_id}"
        ).json()
        return data

    def wait_ready(
        self, video_id: str, timeout: float = 3600.0, on_status: Callable[[str], None] | None = None
    ) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            video = self.video(video_id)
            if on_status:
                on_status(video["status"])
            if video["status"] == "READY":
                return video
            if video["status"] == "FAILED":
                raise BackendError(f"video {video_id} failed to transcode: {video.get('error')}")
            if time.monotonic() > deadline:
                raise BackendError(
                    f"video {video_id} still {video['status']} after {timeout:.0f} s"
                )
            time.sleep(0.3)
