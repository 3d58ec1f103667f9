"""Transcode worker: lease a job, run the ladder, publish to the store, mark READY.

Run as its own process (`python -m backend_stub.worker --config DATA/backend.json`), so a
crash or a SIGKILL takes out one worker and its ffmpeg, nothing else; the job's lease then
expires and another worker picks it up.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from sqlalchemy import update

from backend_stub.config import BackendConfig
from backend_stub.db import session_factory
from backend_stub.errors import BackendError, StoreKeyError, TranscodeError
from backend_stub.media.encryption import hls_key_uri
from backend_stub.media.transcode import TranscodeOptions, transcode
from backend_stub.models import Video
from backend_stub.queue import JobQueue, LeasedJob
from backend_stub.store import open_store


class Shutdown(Exception):
    """Raised in the main thread by SIGTERM/SIGINT: give the job back and exit."""


class Worker:
    def __init__(self, config: BackendConfig, worker_id: str) -> None:
        self.config = config
        self.worker_id = worker_id
        self.sessions = session_factory(config.database_url)
        self.queue = JobQueue(self.sessions)
        self.store = open_store(config.store_url)

    def options_for(self, video: Video) -> TranscodeOptions:
        c, o = self.config, video.options or {}
        return TranscodeOptions(
            segment_seconds=int(o.get("segment_seconds", c.segment_seconds)),
            preset=str(o.get("preset", c.x264_preset)),
            max_height=int(o.get("max_height", c.max_height)),
            per_title=bool(o.get("per_title", c.per_title_ladder)),
            hls_ts=bool(o.get("hls_ts", c.hls_ts)),
            content_key=(video.drm_key_id, video.drm_key)
            if video.drm_key_id and video.drm_key
            else None,
            hls_key_uri=hls_key_uri(video.id),
            protection_scheme=str(o.get("drm_scheme", c.drm_scheme)),
        )

    def run_once(self) -> bool:
        """Process at most one job; True if one was leased."""
        job = self.queue.lease(self.worker_id, self.config.visibility_timeout_seconds)
        if job is None:
            return False
        lost = threading.Event()
        done = threading.Event()
        beat = threading.Thread(target=self._heartbeat, args=(job, lost, done), daemon=True)
        beat.start()
        work = self.config.work_dir / f"job{job.job_id}-a{job.attempt}-{self.worker_id}"
        try:
            self._process(job, work, lost)
        except Shutdown:
            self.queue.release(job)
            raise
        except TranscodeError as exc:
            # Deterministic for this input: retrying would fail the same way.
            self.queue.fail(job, str(exc), retry=False)
        except Exception as exc:
            # Anything else (object store or database hiccup) may pass: retry.
            self.queue.fail(job, f"{type(exc).__name__}: {exc}", retry=True)
        finally:
            done.set()
            shutil.rmtree(work, ignore_errors=True)
        return True

    def _input(self, key: str, inputs: Path) -> Path:
        """A local file for ffmpeg: the store's own file when it has one, else a download."""
        path = self.store.local_path(key)
        if path is not None:
            if not path.is_file():
                raise TranscodeError(f"source object {key!r} is missing from the store")
            return path
        try:
            return self.store.get_file(key, inputs / key)
        except StoreKeyError as exc:
            raise TranscodeError(f"source object {key!r} is missing from the store") from exc

    def _heartbeat(self, job: LeasedJob, lost: threading.Event, done: threading.Event) -> None:
        period = max(0.2, self.config.visibility_timeout_seconds / 3)
        while not done.wait(period):
            if not self.queue.extend(job, self.config.visibility_timeout_seconds):
                lost.set()
                return

    def _process(self, job: LeasedJob, work: Path, lost: threading.Event) -> None:
        with self.sessions() as s:
            video = s.get(Video, job.video_id)
            if video is None:
                raise TranscodeError(f"job {job.job_id}: video {job.video_id} does not exist")
            if (
                bool((video.options or {}).get("encrypt", self.config.encrypt))
                and not video.drm_key
            ):
                # Made once and kept: a re-run job re-encrypts with the same key, so
                # segments already cached at the edge stay decryptable.
                video.drm_key_id, video.drm_key = secrets.token_hex(16), secrets.token_hex(16)
                s.commit()
            opts = self.options_for(video)
            source_key = video.source_key
        shutil.rmtree(work, ignore_errors=True)
        inputs, out = work / "in", work / "out"
        source = self._input(source_key, inputs)
        subtitles = [
            (Path(key).stem, self._input(key, inputs))
            for key in self.store.list(f"raw/{job.video_id}/subtitles")
        ]
        # raw/{id}/audio/{position}.{language}{suffix}, listed in position order.
        audio = [
            (Path(key).name.split(".")[1], self._input(key, inputs))
            for key in self.store.list(f"raw/{job.video_id}/audio")
        ]
        media = transcode(source, out, opts, subtitles, audio)
        if lost.is_set() or not self.queue.extend(job, self.config.visibility_timeout_seconds):
            return  # another worker owns the job now; its output wins
        self.store.put_tree(f"media/{job.video_id}", out)
        with self.sessions.begin() as s:
            s.execute(
                update(Video)
                .where(Video.id == job.video_id)
                .values(
                    media=media.to_dict(),
                    duration_seconds=media.duration_seconds,
                    updated_at=time.time(),
                )
            )
        self.queue.complete(job)

    def run_forever(self, poll_seconds: float = 0.5) -> None:
        while True:
            if not self.run_once():
                time.sleep(poll_seconds)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m backend_stub.worker")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--id", required=True, help="worker id recorded as lease owner")
    args = parser.parse_args(argv)

    def _stop(_sig: int, _frame: object) -> None:
        raise Shutdown()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        worker = Worker(BackendConfig.load(args.config), args.id)
        worker.run_forever()
    except Shutdown:
        return 0
    except BackendError as exc:
        print(f"worker {args.id}: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
