"""The job queue's leases on SQLite and on PostgreSQL (READ COMMITTED): visibility timeout,
redelivery, max attempts, and racing workers — a conditional UPDATE is the only lock."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from backend.helpers import add_video
from backend_stub.db import session_factory
from backend_stub.models import TranscodingJob, Video
from backend_stub.queue import JobQueue, LeasedJob


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture()
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    factory = session_factory(database_url)
    yield factory
    factory.kw["bind"].dispose()


def test_lease_expires_and_job_is_redelivered_then_fails_after_max_attempts(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    queue = JobQueue(sessions, clock)
    add_video(sessions, "v1")
    job_id = queue.enqueue("v1", max_attempts=2)
    assert queue.enqueue("v1") == job_id  # idempotent
    a = queue.lease("A", 10)
    assert a is not None and a.attempt == 1
    assert queue.lease("B", 10) is None  # invisible while leased
    clock.now += 5
    assert queue.extend(a, 10)  # heartbeat pushes expiry to 1015
    clock.now += 9
    assert queue.lease("B", 10) is None
    clock.now += 2  # A went silent: lease expired
    b = queue.lease("B", 10)
    assert b is not None and b.attempt == 2 and b.job_id == job_id
    assert not queue.extend(a, 10)  # A lost its lease
    assert not queue.complete(a)
    clock.now += 11  # B dies too, on the last attempt
    assert queue.lease("C", 10) is None
    with sessions() as s:
        job = s.get(TranscodingJob, job_id)
        video = s.get(Video, "v1")
    assert job is not None and job.status == "FAILED" and "attempt 2 of 2" in (job.error or "")
    assert video is not None and video.status == "FAILED" and video.error == job.error


def _race(workers: int, attempt: object) -> None:
    """Run attempt(worker_index) in `workers` threads released at the same instant."""
    barrier = threading.Barrier(workers)
    errors: list[BaseException] = []

    def run(i: int) -> None:
        try:
            barrier.wait()
            attempt(i)  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors


def test_racing_workers_each_get_a_different_job_and_no_job_twice(
    sessions: sessionmaker[Session],
) -> None:
    queue = JobQueue(sessions)
    jobs = []
    for i in range(6):
        add_video(sessions, f"v{i}")
        jobs.append(queue.enqueue(f"v{i}"))
    leased: list[LeasedJob] = []
    lock = threading.Lock()

    def drain(i: int) -> None:
        # Every worker's first candidate is the same lowest job id: maximum contention.
        while (job := queue.lease(f"w{i}", 60)) is not None:
            with lock:
                leased.append(job)

    _race(8, drain)
    assert sorted(j.job_id for j in leased) == sorted(jobs)  # each exactly once
    with sessions() as s:
        rows = {j.job_id: s.get(TranscodingJob, j.job_id) for j in leased}
    for job in leased:
        row = rows[job.job_id]
        assert row is not None and row.lease_owner == job.worker_id and row.attempts == 1


def test_an_expired_lease_goes_to_exactly_one_of_many_racing_workers(
    sessions: sessionmaker[Session],
) -> None:
    clock = Clock()
    queue = JobQueue(sessions, clock)
    add_video(sessions, "v1")
    queue.enqueue("v1")
    dead = queue.lease("dead", 10)
    assert dead is not None
    clock.now += 11
    winners: list[LeasedJob] = []

    def grab(i: int) -> None:
        job = queue.lease(f"w{i}", 10)
        if job is not None:
            winners.append(job)

    _race(8, grab)
    assert len(winners) == 1 and winners[0].attempt == 2
    # The worker that lost its lease can no longer change anything about the job.
    assert not queue.extend(dead, 10) and not queue.complete(dead)
    queue.fail(dead, "late failure from the dead worker", retry=False)
    queue.release(dead)
    with sessions() as s:
        job = s.get(TranscodingJob, dead.job_id)
        video = s.get(Video, "v1")
    assert job is not None and job.status == "RUNNING" and job.lease_owner == winners[0].worker_id
    assert job.attempts == 2 and job.error is None
    assert video is not None and video.status == "TRANSCODING"
    assert queue.complete(winners[0])
    with sessions() as s:
        video = s.get(Video, "v1")
    assert video is not None and video.status == "READY"


def test_a_failed_job_is_retried_until_its_attempts_run_out(
    sessions: sessionmaker[Session],
) -> None:
    queue = JobQueue(sessions)
    add_video(sessions, "v1")
    queue.enqueue("v1", max_attempts=2)
    first = queue.lease("A", 60)
    assert first is not None
    queue.fail(first, "RuntimeError: disk full", retry=True)
    with sessions() as s:
        video = s.get(Video, "v1")
    assert (
        video is not None and video.status == "PENDING" and video.error == "RuntimeError: disk full"
    )
    second = queue.lease("B", 60)
    assert second is not None and second.attempt == 2
    queue.fail(second, "RuntimeError: disk still full", retry=True)
    assert queue.lease("C", 60) is None
    with sessions() as s:
        job = s.get(TranscodingJob, second.job_id)
        video = s.get(Video, "v1")
    assert job is not None and job.status == "FAILED"
    assert video is not None and (video.status, video.error) == (
        "FAILED",
        "RuntimeError: disk still full",
    )
