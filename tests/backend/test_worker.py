"""A worker killed mid-transcode: the job is redelivered and finished; schema and store checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from backend.helpers import add_video, wait_for
from backend_stub.config import BackendConfig
from backend_stub.db import make_engine, session_factory
from backend_stub.errors import SchemaVersionError, StoreKeyError
from backend_stub.models import SchemaMeta, TranscodingJob, Video
from backend_stub.queue import JobQueue
from backend_stub.store_base import check_key
from backend_stub.store_fs import FilesystemStore


def test_schema_version_mismatch_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    sessions = session_factory(url)
    with sessions.begin() as s:
        s.get(SchemaMeta, "schema_version").value = "0"  # type: ignore[union-attr]
    with pytest.raises(SchemaVersionError, match="schema version 0, this streamlab expects 1"):
        session_factory(url)
    make_engine(url).dispose()


def test_store_refuses_keys_that_escape_its_root(tmp_path: Path) -> None:
    store = FilesystemStore(tmp_path / "store")
    store.put_bytes("media/v1/r0/seg-00001.m4s", b"x")
    assert list(store.list("media/v1")) == ["media/v1/r0/seg-00001.m4s"]
    for bad in ("../etc/passwd", "/abs", "media//x", "media/./x", "media/v1/"):
        with pytest.raises(StoreKeyError, match="bad object key"):
            check_key(bad)


def _children(pid: int) -> list[int]:
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:
            kids.append(int(stat.parent.name))
    return kids


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_killed_worker_job_is_redelivered_and_finished(tmp_path: Path, clip: Path) -> None:
    config = BackendConfig(
        data_dir=tmp_path,
        jwt_secret="j" * 32,
        url_signing_secret="u" * 32,
        x264_preset="ultrafast",
        visibility_timeout_seconds=2.0,
    )
    config_path = config.save()
    sessions = session_factory(config.database_url)
    store = FilesystemStore(tmp_path / "store")
    store.put_file("raw/vkill/source.mp4", clip)
    add_video(sessions, "vkill", "raw/vkill/source.mp4")
    job_id = JobQueue(sessions).enqueue("vkill")

    def spawn(wid: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "backend_stub.worker", "--config", str(config_path), "--id", wid]
        )

    a = spawn("A")
    try:
        wait_for(
            lambda: any(
                "ffmpeg" in Path(f"/proc/{c}/cmdline").read_text(errors="replace")
                for c in _children(a.pid)
                if Path(f"/proc/{c}/cmdline").exists()
            ),
            20,
            "worker A to start ffmpeg",
        )
        encoders = _children(a.pid)
        with sessions() as s:
            job = s.get(TranscodingJob, job_id)
            assert job is not None and job.status == "RUNNING" and job.lease_owner == "A"
        a.send_signal(signal.SIGKILL)
        a.wait(5)
        wait_for(lambda: not any(_alive(p) for p in encoders), 5, "A's ffmpeg to die with it")
    finally:
        if a.poll() is None:
            a.kill()
    started = time.monotonic()
    b = spawn("B")
    try:

        def ready() -> bool:
            with sessions() as s:
                return s.scalar(select(Video.status).where(Video.id == "vkill")) == "READY"

        wait_for(ready, 60, "worker B to finish the redelivered job")
        assert time.monotonic() - started >= 0.5  # B had to wait for A's lease to run out
    finally:
        b.send_signal(signal.SIGTERM)
        b.wait(10)
    with sessions() as s:
        job = s.get(TranscodingJob, job_id)
        video = s.get(Video, "vkill")
    assert job is not None and job.status == "DONE" and job.attempts == 2
    assert video is not None and [r["height"] for r in video.media["rungs"]] == [240, 360, 480]
    keys = set(store.list("media/vkill"))
    assert {
        "media/vkill/master.m3u8",
        "media/vkill/manifest.mpd",
        "media/vkill/r0/seg-00003.m4s",
    } <= keys
