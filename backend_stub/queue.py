"""Job queue in the database with visibility-timeout leases.

A worker leases one job for `visibility_timeout` seconds and extends the lease while it
works. If the worker dies, nobody extends it; once it expires the job is visible again and
the next `lease()` hands it to another worker. Jobs are idempotent (the worker publishes a
complete output tree at the end), so running one twice is harmless.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import ColumnElement, and_, case, or_, select, update
from sqlalchemy.engine import CursorResult, Result
from sqlalchemy.orm import Session, sessionmaker

from backend_stub.models import TranscodingJob, Video

Clock = Callable[[], float]


def _rowcount(result: Result[Any]) -> int:
    # An UPDATE through Session.execute returns a CursorResult; the static type says Result.
    return cast("CursorResult[Any]", result).rowcount


@dataclass(frozen=True)
class LeasedJob:
    job_id: int
    video_id: str
    attempt: int
    worker_id: str


class JobQueue:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock = time.time) -> None:
        self._sessions = sessions
        self._clock = clock

    def enqueue(self, video_id: str, max_attempts: int = 3) -> int:
        """Add a job for video_id, or return the open one: enqueueing twice is a no-op."""
        now = self._clock()
        with self._sessions.begin() as s:
            existing = s.scalar(
                select(TranscodingJob.id).where(
                    TranscodingJob.video_id == video_id,
                    TranscodingJob.status.in_(("PENDING", "RUNNING")),
                )
            )
            if existing is not None:
                return existing
            job = TranscodingJob(
                video_id=video_id,
                status="PENDING",
                attempts=0,
                max_attempts=max_attempts,
                created_at=now,
                updated_at=now,
            )
            s.add(job)
            s.flush()
            return job.id

    def lease(self, worker_id: str, visibility_timeout: float) -> LeasedJob | None:
        now = self._clock()
        with self._sessions.begin() as s:
            self._fail_exhausted(s, now)
            visible = or_(
                TranscodingJob.status == "PENDING",
                (TranscodingJob.status == "RUNNING") & (TranscodingJob.lease_expires_at < now),
            )
            candidates = s.scalars(
                select(TranscodingJob.id).where(visible).order_by(TranscodingJob.id).limit(5)
            ).all()
            for job_id in candidates:
                # The conditional UPDATE is the lock: of two workers racing for one job,
                # only the one whose UPDATE still sees it visible changes a row.
                res = s.execute(
                    update(TranscodingJob)
                    .where(TranscodingJob.id == job_id, visible)
                    .values(
                        status="RUNNING",
                        lease_owner=worker_id,
                        lease_expires_at=now + visibility_timeout,
                        attempts=TranscodingJob.attempts + 1,
                        updated_at=now,
                    )
                )
                if _rowcount(res) == 1:
                    job = s.get(TranscodingJob, job_id)
                    assert job is not None
                    s.execute(
                        update(Video)
                        .where(Video.id == job.video_id)
                        .values(status="TRANSCODING", error=None, updated_at=now)
                    )
                    return LeasedJob(job.id, job.video_id, job.attempts, worker_id)
        return None

    def _fail_exhausted(self, s: Session, now: float) -> None:
        """Expired leases that used their last attempt: fail the job instead of retrying."""
        dead = s.execute(
            select(TranscodingJob.id, TranscodingJob.attempts, TranscodingJob.max_attempts)
            .where(
                TranscodingJob.status == "RUNNING",
                TranscodingJob.lease_expires_at < now,
                TranscodingJob.attempts >= TranscodingJob.max_attempts,
            )
            .order_by(TranscodingJob.id)  # one lock order for concurrent callers
        ).all()
        for job_id, attempts, max_attempts in dead:
            msg = f"worker lease expired on attempt {attempts} of {max_attempts} (worker died?)"
            # Conditional again: under READ COMMITTED another worker may have failed (or a
            # late heartbeat revived) the job since the SELECT; only a still-dead row changes.
            res = s.execute(
                update(TranscodingJob)
                .where(
                    TranscodingJob.id == job_id,
                    TranscodingJob.status == "RUNNING",
                    TranscodingJob.lease_expires_at < now,
                )
                .values(status="FAILED", error=msg, updated_at=now, lease_owner=None)
                .returning(TranscodingJob.video_id)
            )
            video_id = res.scalar()
            if video_id is not None:
                s.execute(
                    update(Video)
                    .where(Video.id == video_id)
                    .values(status="FAILED", error=msg, updated_at=now)
                )

    @staticmethod
    def _owned(job: LeasedJob) -> ColumnElement[bool]:
        """This lease, still held: every change by a lease holder is conditional on it, so a
        worker whose lease expired and was taken over cannot touch the job any more."""
        return and_(
            TranscodingJob.id == job.job_id,
            TranscodingJob.lease_owner == job.worker_id,
            TranscodingJob.status == "RUNNING",
            TranscodingJob.attempts == job.attempt,
        )

    def extend(self, job: LeasedJob, visibility_timeout: float) -> bool:
        """Heartbeat. False means the lease was lost (expired and taken): stop working."""
        now = self._clock()
        with self._sessions.begin() as s:
            res = s.execute(
                update(TranscodingJob)
                .where(self._owned(job))
                .values(lease_expires_at=now + visibility_timeout, updated_at=now)
            )
            return _rowcount(res) == 1

    def complete(self, job: LeasedJob) -> bool:
        now = self._clock()
        with self._sessions.begin() as s:
            res = s.execute(
                update(TranscodingJob)
                .where(self._owned(job))
                .values(
                    status="DONE",
                    lease_owner=None,
                    lease_expires_at=None,
                    error=None,
                    updated_at=now,
                )
            )
            if _rowcount(res) != 1:
                return False
            s.execute(
                update(Video)
                .where(Video.id == job.video_id)
                .values(status="READY", error=None, updated_at=now)
            )
            return True

    def fail(self, job: LeasedJob, error: str, retry: bool) -> None:
        """Record the error; with retry and attempts left the job becomes visible again now.
        A worker that lost its lease changes nothing (the new owner's outcome counts)."""
        now = self._clock()
        status_after = (
            case((TranscodingJob.attempts < TranscodingJob.max_attempts, "PENDING"), else_="FAILED")
            if retry
            else "FAILED"
        )
        with self._sessions.begin() as s:
            res = s.execute(
                update(TranscodingJob)
                .where(self._owned(job))
                .values(
                    status=status_after,
                    lease_expires_at=None,
                    lease_owner=None,
                    error=error,
                    updated_at=now,
                )
                .returning(TranscodingJob.status)
            )
            status = res.scalar()
            if status is not None:
                s.execute(
                    update(Video)
                    .where(Video.id == job.video_id)
                    .values(status=status, error=error, updated_at=now)
                )

    def release(self, job: LeasedJob) -> None:
        """Give the job back without counting it as failed (worker shutting down)."""
        now = self._clock()
        with self._sessions.begin() as s:
            res = s.execute(
                update(TranscodingJob)
                .where(self._owned(job))
                .values(
                    status="PENDING",
                    lease_owner=None,
                    lease_expires_at=None,
                    attempts=TranscodingJob.attempts - 1,
                    updated_at=now,
                )
            )
            if _rowcount(res) != 1:
                return
            s.execute(
                update(Video)
                .where(Video.id == job.video_id)
                .values(status="PENDING", updated_at=now)
            )
