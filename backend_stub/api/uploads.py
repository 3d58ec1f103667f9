"""Chunked, resumable upload (tus-style offsets).

POST /api/v1/uploads              {filename, size, sha256, title, …} → {upload_id, offset}
HEAD|GET /api/v1/uploads/{id}     → Upload-Offset: bytes the server has
PATCH /api/v1/uploads/{id}        Upload-Offset: N, body = next chunk → new offset
POST /api/v1/uploads/{id}/complete → checksum check, raw/{video_id}/source…, job queued

A chunk counts only once it arrived whole; a cut mid-chunk leaves the offset at the last
whole chunk, and the client resumes from the offset HEAD reports.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
import time
from pathlib import Path
from typing import Annotated, Any, Literal, cast

from fastapi import APIRouter, Header, HTTPException, Request, Response
from pydantic import AfterValidator, ConfigDict, Field
from sqlalchemy import update
from sqlalchemy.engine import CursorResult
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

import api_paths as paths
from backend_stub.api.fields import Label, RequestModel, Seconds, Title, TokenPath
from backend_stub.api.state import AppState, StateDep, UserDep
from backend_stub.auth import Principal
from backend_stub.errors import TranscodeError
from backend_stub.media.encryption import PROTECTION_SCHEMES
from backend_stub.media.ffmpeg import check_audio
from backend_stub.models import Upload, Video

router = APIRouter()

MAX_UPLOAD_BYTES = 20 * 1024**3
# Read into memory whole (the WebVTT check); a feature's subtitles are a few hundred KiB.
MAX_SUBTITLE_BYTES = 16 * 1024**2
_AUDIO_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")
_LANG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})?")
X264Preset = Literal[
    "ultrafast", "superfast", "veryfast", "faster", "fast",
    "medium", "slow", "slower", "veryslow", "placebo",
]  # fmt: skip


def _protection_scheme(value: str) -> str:
    if value not in PROTECTION_SCHEMES:
        raise ValueError(f"{value!r} is not one of {PROTECTION_SCHEMES}")
    return value


class UploadOptions(RequestModel):
    """Per-title transcode settings; one absent (or null) takes the server's default when the
    worker transcodes (worker.py), so none is stored."""

    model_config = ConfigDict(extra="forbid")
    hls_ts: bool | None = None
    per_title: bool | None = None
    max_height: Annotated[int, Field(ge=144, le=4320)] | None = None
    preset: X264Preset | None = None
    # As the server's own setting (config.py): GOP-aligned.
    segment_seconds: Annotated[int, Field(ge=2, le=6)] | None = None
    encrypt: bool | None = None
    drm_scheme: Annotated[str, AfterValidator(_protection_scheme)] | None = None


class CreateUpload(RequestModel):
    filename: Title
    size: int = Field(gt=0, le=MAX_UPLOAD_BYTES)
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    title: Title
    genre: Label = ""
    tags: list[Label] = Field(default=[], max_length=32)
    intro_start: Seconds | None = None
    intro_end: Seconds | None = None
    options: UploadOptions = UploadOptions()


def _part_path(state: AppState, upload_id: str) -> Path:
    return state.config.uploads_dir / f"{upload_id}.part"


def _audio_dir(state: AppState, upload_id: str) -> Path:
    return state.config.uploads_dir / f"{upload_id}.audio"


def _own_upload(state: AppState, upload_id: str, user: Principal) -> Upload:
    with state.sessions() as s:
        up = s.get(Upload, upload_id)
    if up is None or up.user_id != user.user_id:
        raise HTTPException(404, f"no upload {upload_id!r}")
    return up


@router.post(paths.UPLOADS, status_code=201)
def create_upload(body: CreateUpload, user: UserDep, state: StateDep) -> dict[str, Any]:
    if (body.intro_start is None) != (body.intro_end is None) or (
        body.intro_start is not None
        and body.intro_end is not None
        and body.intro_end <= body.intro_start
    ):
        raise HTTPException(422, "intro needs both intro_start and intro_end, with end after start")
    upload_id = secrets.token_hex(8)
    state.config.uploads_dir.mkdir(parents=True, exist_ok=True)
    _part_path(state, upload_id).touch()
    meta = body.model_dump(exclude={"filename", "size", "sha256", "options"})
    meta["options"] = body.options.model_dump(exclude_none=True)
    with state.sessions.begin() as s:
        s.add(
            Upload(
                id=upload_id,
                user_id=user.user_id,
                filename=Path(body.filename).name,
                size=body.size,
                sha256=body.sha256,
                offset=0,
                status="OPEN",
                metadata_=meta,
                created_at=time.time(),
            )
        )
    return {
        "upload_id": upload_id,
        "offset": 0,
        "size": body.size,
        "upload_url": paths.UPLOAD.format(upload_id=upload_id),
    }


@router.api_route(paths.UPLOAD, methods=["GET", "HEAD"])
def upload_status(
    upload_id: TokenPath, response: Response, user: UserDep, state: StateDep
) -> dict[str, Any]:
    up = _own_upload(state, upload_id, user)
    response.headers["Upload-Offset"] = str(up.offset)
    response.headers["Upload-Length"] = str(up.size)
    response.headers["Cache-Control"] = "no-store"
    return {
        "upload_id": up.id,
        "offset": up.offset,
        "size": up.size,
        "status": up.status,
        "video_id": up.video_id,
    }


# The chunk streams to disk, never into memory; its bound is the declared size (below).
@router.patch(paths.UPLOAD, status_code=204, max_body_size=MAX_UPLOAD_BYTES)
async def upload_chunk(
    upload_id: TokenPath,
    request: Request,
    upload_offset: Annotated[int, Header()],
    user: UserDep,
    state: StateDep,
) -> Response:
    up = _own_upload(state, upload_id, user)
    if up.status != "OPEN":
        raise HTTPException(409, f"upload {upload_id} is already {up.status}")
    if upload_offset != up.offset:
        raise HTTPException(
            409,
            f"Upload-Offset {upload_offset} does not match the server's offset {up.offset}; "
            "HEAD the upload and resume from there",
        )
    received = 0
    path = _part_path(state, upload_id)
    fd = os.open(path, os.O_WRONLY)
    try:
        os.lseek(fd, up.offset, os.SEEK_SET)
        async for piece in request.stream():
            if up.offset + received + len(piece) > up.size:
                raise HTTPException(413, f"chunk runs past the declared size {up.size}")
            os.write(fd, piece)
            received += len(piece)
        os.ftruncate(fd, up.offset + received)
        os.fsync(fd)
    except ClientDisconnect:
        # Cut mid-chunk: the offset stays at the last whole chunk. The stray bytes past it
        # are overwritten by the resumed chunk (and cut off by its ftruncate).
        return Response(status_code=400)
    finally:
        os.close(fd)
    new_offset = up.offset + received
    with state.sessions.begin() as s:
        row = s.get(Upload, upload_id)
        assert row is not None
        row.offset = new_offset
    return Response(status_code=204, headers={"Upload-Offset": str(new_offset)})


@router.post(
    paths.UPLOAD_SUBTITLES,
    status_code=201,
    max_body_size=MAX_SUBTITLE_BYTES,
)
async def upload_subtitles(
    upload_id: TokenPath, language: str, request: Request, user: UserDep, state: StateDep
) -> dict[str, Any]:
    up = _own_upload(state, upload_id, user)
    if not _LANG.fullmatch(language):
        raise HTTPException(
            422, f"subtitle language {language!r} is not a BCP-47 tag like 'en' or 'pt-BR'"
        )
    text = (await request.body()).decode("utf-8", errors="replace")
    if not text.lstrip("\ufeff").startswith("WEBVTT"):
        raise HTTPException(
            422, f"subtitles for {language!r} are not WebVTT (must start with 'WEBVTT')"
        )
    sub_path = state.config.uploads_dir / f"{up.id}.{language}.vtt"
    sub_path.write_text(text)
    return {"language": language}


@router.post(
    paths.UPLOAD_AUDIO,
    status_code=201,
    max_body_size=MAX_UPLOAD_BYTES,
)
async def upload_audio(
    upload_id: TokenPath,
    language: str,
    request: Request,
    user: UserDep,
    state: StateDep,
    filename: str = "audio.m4a",
) -> dict[str, Any]:
    """A separate audio track (one file, any format ffmpeg reads) for the title; it becomes an
    audio rendition tagged `language` in both manifests. Checked with ffprobe on arrival, so a
    file that is not audio is refused here (422) rather than failing the transcode later."""
    up = _own_upload(state, upload_id, user)
    if up.status != "OPEN":
        raise HTTPException(409, f"upload {upload_id} is already {up.status}")
    if not _LANG.fullmatch(language):
        raise HTTPException(
            422, f"audio language {language!r} is not a BCP-47 tag like 'en' or 'pt-BR'"
        )
    suffix = Path(filename).suffix.lower() or ".m4a"
    if not _AUDIO_SUFFIX.fullmatch(suffix):
        raise HTTPException(422, f"audio filename {filename!r} has an unusable extension")
    audio_dir = _audio_dir(state, up.id)
    audio_dir.mkdir(parents=True, exist_ok=True)
    # Files are "{position}.{language}{suffix}": tracks keep the order they were sent in
    # (the first is the default when the source has no audio); re-sending a language
    # replaces it in place.
    same = sorted(audio_dir.glob(f"*.{language}.*"))
    position = same[0].name.split(".")[0] if same else f"{len(list(audio_dir.iterdir())):02d}"
    for old in same:
        old.unlink()
    path = audio_dir / f"{position}.{language}{suffix}"
    size = 0
    with path.open("wb") as fh:
        async for piece in request.stream():
            size += len(piece)
            if size > MAX_UPLOAD_BYTES:
                fh.close()
                path.unlink()
                raise HTTPException(
                    413, f"audio for {language!r} is larger than {MAX_UPLOAD_BYTES}"
                )
            fh.write(piece)
    try:
        await run_in_threadpool(check_audio, path, f"audio for {language!r} ({filename})")
    except TranscodeError as exc:
        path.unlink()
        raise HTTPException(422, str(exc)) from exc
    return {"language": language, "size": size}


@router.post(paths.UPLOAD_COMPLETE)
def complete_upload(upload_id: TokenPath, user: UserDep, state: StateDep) -> dict[str, Any]:
    up = _own_upload(state, upload_id, user)
    if up.status == "COMPLETE":
        return {"video_id": up.video_id, "status": "PENDING"}  # idempotent replay
    if up.offset != up.size:
        raise HTTPException(409, f"upload has {up.offset} of {up.size} bytes; send the rest first")
    path = _part_path(state, upload_id)
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                digest.update(block)
    except FileNotFoundError:
        return _finished(state, upload_id)  # a concurrent complete got there first
    if digest.hexdigest() != up.sha256:
        raise HTTPException(
            422, f"checksum mismatch: declared sha256 {up.sha256}, received {digest.hexdigest()}"
        )
    video_id = secrets.token_hex(6)
    suffix = Path(up.filename).suffix.lower() or ".bin"
    source_key = f"raw/{video_id}/source{suffix}"
    audio_dir = _audio_dir(state, up.id)
    side = [
        (f"raw/{video_id}/subtitles/{sub.name.split('.')[1]}.vtt", sub)
        for sub in state.config.uploads_dir.glob(f"{up.id}.*.vtt")
    ] + [
        # Same name in the store; the worker reads the language back from it.
        (f"raw/{video_id}/audio/{audio.name}", audio)
        for audio in (sorted(audio_dir.glob("*")) if audio_dir.is_dir() else [])
    ]
    try:
        state.store.put_file(source_key, path)
        for key, file in side:
            state.store.put_file(key, file)
    except FileNotFoundError:
        state.store.delete_prefix(f"raw/{video_id}")
        return _finished(state, upload_id)
    meta = up.metadata_ or {}
    now = time.time()
    with state.sessions.begin() as s:
        # The conditional UPDATE decides between concurrent completes of one upload (a
        # client retrying after a timeout): one title, whoever commits first.
        claimed = s.execute(
            update(Upload)
            .where(Upload.id == upload_id, Upload.status == "OPEN")
            .values(status="COMPLETE", video_id=video_id)
        )
        won = cast("CursorResult[Any]", claimed).rowcount == 1
        if won:
            s.add(
                Video(
                    id=video_id,
                    title=meta["title"],
                    status="PENDING",
                    source_key=source_key,
                    owner_id=user.user_id,
                    genre=meta.get("genre", ""),
                    tags=meta.get("tags", []),
                    intro_start=meta.get("intro_start"),
                    intro_end=meta.get("intro_end"),
                    options=meta.get("options", {}),
                    media={},
                    created_at=now,
                    updated_at=now,
                )
            )
    if not won:
        state.store.delete_prefix(f"raw/{video_id}")
        return _finished(state, upload_id)
    state.queue.enqueue(video_id, state.config.max_attempts)
    # Only now, with the title committed, may the spooled files go.
    path.unlink(missing_ok=True)
    for _key, file in side:
        file.unlink(missing_ok=True)
    if audio_dir.is_dir():
        audio_dir.rmdir()
    return {"video_id": video_id, "status": "PENDING"}


def _finished(state: AppState, upload_id: str) -> dict[str, Any]:
    """The answer for a complete that lost the race to another complete of the upload."""
    with state.sessions() as s:
        row = s.get(Upload, upload_id)
    if row is None or row.status != "COMPLETE":
        raise HTTPException(409, f"upload {upload_id}'s spooled files are gone; upload it again")
    return {"video_id": row.video_id, "status": "PENDING"}
