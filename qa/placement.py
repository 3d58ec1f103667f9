"""Where a QA run's sessions played: in this process or on Dask workers, under which limits,
and how many each host played at once.

The per-host peak is measured from the sessions' own start and end times (`time.monotonic()`,
one clock per host), not taken from the limit that should hold it: the report and
summary.json show what happened.
"""

from __future__ import annotations

import socket
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from qa.errors import QaInputError
from qa.session import SessionOutcome

IN_PROCESS = "in-process"


@dataclass(frozen=True)
class Cluster:
    """The Dask cluster a run plays on: a LocalCluster of `workers` processes on this host, or
    the workers of the scheduler at `scheduler`."""

    workers: int | None
    scheduler: str | None
    concurrency: int  # sessions at a time on each worker
    host_limit: int  # sessions at a time on each host, all its workers together

    def describe(self) -> str:
        where = (
            f"Dask scheduler {self.scheduler}"
            if self.scheduler
            else f"Dask LocalCluster, {self.workers} worker processes on this host"
        )
        return (
            f"{where}; up to {self.concurrency} sessions at a time per worker, "
            f"{self.host_limit} per host"
        )

    def first_wave(self, sessions: int) -> int:
        """How many sessions start at once: what process faults wait for. Only a LocalCluster
        can have them (a remote scheduler needs --backend), so its size is known here."""
        per_cluster = (self.workers or 1) * self.concurrency
        return min(per_cluster, self.host_limit, sessions)


def cluster_of(
    workers: int | None,
    scheduler: str | None,
    host_limit: int | None,
    concurrency: int,
    limit: int,
    over_limit: bool,
    backend: str | None,
) -> Cluster | None:
    """The cluster the options ask for (None: one process); bad combinations raise
    QaInputError naming the options."""
    if workers is None and scheduler is None:
        if host_limit is not None:
            raise QaInputError("--host-limit applies to Dask runs: add --workers N or --scheduler")
        return None
    if workers is not None and scheduler is not None:
        raise QaInputError("--workers and --scheduler: give one (a LocalCluster or a scheduler)")
    if workers is not None and workers < 1:
        raise QaInputError(f"--workers must be at least 1, got {workers}")
    if scheduler is not None and backend is None:
        # The backend qa starts listens on 127.0.0.1: workers on other hosts cannot reach it.
        raise QaInputError(
            f"--scheduler {scheduler} needs --backend URL, a backend the workers can reach "
            "(the one qa starts listens on 127.0.0.1 of this host; --workers N runs a "
            "LocalCluster here instead)"
        )
    cap = limit if host_limit is None else host_limit
    if cap < 1:
        raise QaInputError(f"--host-limit must be at least 1, got {cap}")
    if cap > limit and not over_limit:
        raise QaInputError(
            f"--host-limit {cap} is above the measured limit per host ({limit}): the "
            "harness would distort the results (--over-limit runs anyway)"
        )
    return Cluster(workers, scheduler, concurrency, cap)


@dataclass(frozen=True)
class Placement:
    session: int
    host: str
    worker: str  # the Dask worker's address, or IN_PROCESS


@dataclass(frozen=True)
class HostLoad:
    host: str
    workers: int
    sessions: int
    peak: int  # the most sessions playing at once
    limit: int


def in_process(outcomes: Sequence[SessionOutcome]) -> list[Placement]:
    host = socket.gethostname()
    return [Placement(o.spec.index, host, IN_PROCESS) for o in outcomes]


def placement_rows(
    outcomes: Sequence[SessionOutcome], placements: Sequence[Placement]
) -> list[dict[str, object]]:
    """Each session's host, worker, start and end (that host's `time.monotonic()`), for
    summary.json: enough to check the per-host peak without trusting `host_loads`."""
    where = {p.session: p for p in placements}
    return [
        {
            "session": o.spec.index,
            "host": where[o.spec.index].host,
            "worker": where[o.spec.index].worker,
            "started_s": o.started_at,
            "ended_s": o.ended_at,
        }
        for o in outcomes
    ]


def peak_concurrency(intervals: Sequence[tuple[float, float]]) -> int:
    """The most intervals open at one instant; one that ends when another starts does not
    overlap it."""
    edges = sorted([(start, 1) for start, _ in intervals] + [(end, -1) for _, end in intervals])
    peak = playing = 0
    for _, step in edges:  # at equal times the end (-1) sorts first
        playing += step
        peak = max(peak, playing)
    return peak


def host_loads(
    outcomes: Sequence[SessionOutcome], placements: Sequence[Placement], limit: int
) -> list[HostLoad]:
    where: Mapping[int, Placement] = {p.session: p for p in placements}
    by_host: dict[str, list[SessionOutcome]] = {}
    for outcome in outcomes:
        by_host.setdefault(where[outcome.spec.index].host, []).append(outcome)
    return [
        HostLoad(
            host,
            len({where[o.spec.index].worker for o in mine}),
            len(mine),
            peak_concurrency([(o.started_at, o.ended_at) for o in mine]),
            limit,
        )
        for host, mine in sorted(by_host.items())
    ]
