"""QA sessions on Dask workers (`streamlab qa --workers N` or `--scheduler tcp://HOST:PORT`).

The client plans the sessions and the faults (from the seed, as in one process) and cuts the
sessions into batches. Each batch is a Dask task that logs in to the backend and plays its
sessions with the same `run_all` and `play` as one process: shaped links and fault proxies
are made on the worker, on its own loopback, and connect to the edge the API names, so the
backend must be reachable from every worker. The outcomes come back to the client and feed
the same progress check, report, JUnit and gate.

Limits: a session holds two Dask `Semaphore` leases while it plays, one named after its
worker (`--concurrency` per worker, whatever the worker's thread count) and one named after
its host (the per-host limit, shared by every worker on that host and by every run on the
cluster with the same limit). Semaphores rather than worker resources: resources are
declared per worker when it starts, so they can neither span a host's workers nor be set by
a client on an existing cluster. The scheduler releases the leases of a worker that dies.

Sessions tell the client when they begin playing and when they end through the scheduler's
event log (`Worker.log_event`): process faults wait for the first wave, and the progress bar
counts sessions as they end.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import math
import pickle
import socket
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, is_dataclass
from pathlib import Path
from typing import Any

from distributed import Client, LocalCluster, Semaphore, Worker, as_completed, get_worker

from abr.registry import PROFILES, resolve
from player.api import ApiError
from qa.backend import open_api
from qa.errors import QaInputError
from qa.faults import FaultEvent, FaultRun, SessionFaults
from qa.placement import Cluster, Placement
from qa.runner import RunStats, run_all, session_bar
from qa.session import PlayerSetup, SessionOutcome, SessionSpec

WAVES_PER_BATCH = 4  # a batch keeps its worker busy for a few waves, then another is picked
WORKERS_TIMEOUT_S = 60.0


@dataclass(frozen=True)
class SessionJob:
    """What every batch of a run shares: the backend, the player's settings, the limits."""

    api_url: str
    token: str | None  # the client's log-in: every session is the same viewer, as in one process
    abr: str
    decode: bool
    timeout_s: float
    journal_dir: Path  # progress journals; a worker on another host uses its temp dir
    client_host: str
    concurrency: int  # per worker
    host_limit: int
    topic: str  # the event topic of this run

    def journals_on(self, host: str) -> Path:
        if host == self.client_host:
            return self.journal_dir
        return Path(tempfile.gettempdir()) / "streamlab-qa" / self.topic / "progress"


@dataclass(frozen=True)
class Batch:
    job: SessionJob
    specs: list[SessionSpec]
    faults: SessionFaults  # these sessions' own faults


@dataclass(frozen=True)
class BatchResult:
    host: str
    worker: str
    outcomes: bytes  # list[SessionOutcome], pickled by `dumps`
    fault_events: list[FaultEvent]
    cpu_s: float  # the worker process's CPU time over the batch


class _Pickler(pickle.Pickler):
    """Rebuilds every dataclass through its constructor. Compiled by mypyc (`make compile`),
    a frozen one (`QoeSummary`, `Presentation`) refuses pickle's default way back, which sets
    its fields one by one after creating it (FrozenInstanceError)."""

    def reducer_override(self, obj: Any) -> Any:
        if is_dataclass(obj) and not isinstance(obj, type):
            init = {f.name: getattr(obj, f.name) for f in fields(obj) if f.init}
            return _rebuilt, (type(obj), init)
        return NotImplemented


def _rebuilt(cls: type[Any], init: dict[str, Any]) -> Any:
    return cls(**init)


def dumps(value: Any) -> bytes:
    """`value` pickled so that it loads (`pickle.loads`) in a compiled build too."""
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def batches(
    specs: Sequence[SessionSpec], workers: int, concurrency: int
) -> list[list[SessionSpec]]:
    """Consecutive runs of sessions: a few waves each, but at least one batch per worker."""
    size = max(1, min(WAVES_PER_BATCH * concurrency, math.ceil(len(specs) / workers)))
    return [list(specs[i : i + size]) for i in range(0, len(specs), size)]


async def run_on_dask(
    cluster: Cluster,
    specs: Sequence[SessionSpec],
    job: SessionJob,
    faults: FaultRun,
    show_progress: bool,
) -> tuple[list[SessionOutcome], RunStats, list[Placement]]:
    """Play `specs` on the cluster; the outcomes in session order, the run's wall time and
    the workers' CPU time, and where each session played. The workers' fault logs are
    added to `faults.log`."""
    async with _client(cluster) as client:
        workers = await _worker_count(client, cluster)
        with session_bar(len(specs), show_progress) as done:

            def on_event(event: tuple[float, dict[str, Any]]) -> None:
                _, message = event
                if "began" in message:
                    faults.session_began(int(message["began"]))
                else:
                    done(bool(message["failed"]))

            client.subscribe_topic(job.topic, on_event)
            start = time.monotonic()
            tasks = [
                Batch(job, part, faults.sessions.only({s.index for s in part}))
                for part in batches(specs, workers, cluster.concurrency)
            ]
            futures = client.map(play_batch, tasks, pure=False)
            results: list[BatchResult] = []
            try:
                async for future in as_completed(futures):
                    results.append(await future)
            finally:
                client.unsubscribe_topic(job.topic)
                await client.cancel(futures)
            wall = time.monotonic() - start
    outcomes: list[SessionOutcome] = []
    placements: list[Placement] = []
    for result in results:
        faults.log.events.extend(result.fault_events)
        played: list[SessionOutcome] = pickle.loads(result.outcomes)
        outcomes += played
        placements += [Placement(o.spec.index, result.host, result.worker) for o in played]
    outcomes.sort(key=lambda o: o.spec.index)
    return outcomes, RunStats(wall, sum(r.cpu_s for r in results)), placements


async def _worker_count(client: Client, cluster: Cluster) -> int:
    """The cluster's workers, once there is one (an existing cluster may have none yet)."""
    deadline = time.monotonic() + WORKERS_TIMEOUT_S
    while True:
        assert client.scheduler is not None  # connected
        workers = (await client.scheduler.identity(n_workers=-1))["workers"]
        if workers:
            return len(workers)
        if time.monotonic() > deadline:
            raise QaInputError(
                f"--scheduler {cluster.scheduler}: no worker joined within "
                f"{WORKERS_TIMEOUT_S:.0f} s"
            )
        await asyncio.sleep(0.5)


@contextlib.asynccontextmanager
async def _client(cluster: Cluster) -> AsyncIterator[Client]:
    if cluster.scheduler:
        try:
            client = await Client(cluster.scheduler, asynchronous=True, timeout=10)
        except OSError as exc:
            raise QaInputError(f"--scheduler {cluster.scheduler}: {exc}") from exc
        async with client:
            yield client
        return
    async with (
        LocalCluster(
            n_workers=cluster.workers,
            threads_per_worker=1,  # --concurrency is per worker: one batch at a time
            processes=True,
            dashboard_address=None,
            # Sessions hold no Dask data: a decoding worker's memory is libmpv's, not spill.
            memory_limit=0,
            asynchronous=True,
        ) as local,
        Client(local, asynchronous=True) as client,
    ):
        yield client


def play_batch(batch: Batch) -> BatchResult:
    """The Dask task: play the batch's sessions on this worker, each under its leases."""
    worker = get_worker()
    host = socket.gethostname()
    try:
        return asyncio.run(_play_batch(batch, worker, host))
    except (QaInputError, ApiError) as exc:
        raise QaInputError(f"worker {worker.address} on {host}: {exc}") from exc


async def _play_batch(batch: Batch, worker: Worker, host: str) -> BatchResult:
    job = batch.job
    profile = PROFILES["default"]
    factory = resolve(job.abr, profile)
    setup = PlayerSetup(factory, profile, job.decode, job.timeout_s, job.journals_on(host))
    per_worker = Semaphore(
        job.concurrency, f"streamlab-qa/worker/{worker.address}/{job.concurrency}"
    )
    per_host = Semaphore(job.host_limit, f"streamlab-qa/host/{host}/{job.host_limit}")
    told: set[int] = set()

    def began(index: int) -> None:
        if index not in told:
            told.add(index)
            worker.log_event(job.topic, {"began": index})

    api = open_api(job.api_url)
    api.token = job.token
    # Lease calls block on the scheduler: their own threads, so a session waiting for a lease
    # never holds up the to_thread calls of the sessions that hold one.
    leases = ThreadPoolExecutor(max_workers=job.concurrency, thread_name_prefix="qa-lease")
    try:

        async def play_one(spec: SessionSpec) -> SessionOutcome:
            try:
                async with _lease(per_worker, leases), _lease(per_host, leases):
                    outcome = await batch.faults.play(spec, api, setup, began)
            finally:
                began(spec.index)  # also when no lease came: the client counts sessions begun
            worker.log_event(job.topic, {"ended": spec.index, "failed": outcome.failed})
            return outcome

        outcomes, stats = await run_all(batch.specs, job.concurrency, play_one, False)
    finally:
        await api.client.aclose()
        leases.shutdown()
        for semaphore in (per_worker, per_host):
            # Each Semaphore refreshes its leases from a periodic callback on the worker's
            # loop; this batch's hold none now.
            worker.loop.add_callback(semaphore.refresh_callback.stop)
    return BatchResult(host, worker.address, dumps(outcomes), batch.faults.log.events, stats.cpu_s)


@contextlib.asynccontextmanager
async def _lease(semaphore: Semaphore, pool: ThreadPoolExecutor) -> AsyncIterator[None]:
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(pool, semaphore.acquire)
    try:
        yield
    finally:
        await loop.run_in_executor(pool, semaphore.release)


def new_topic() -> str:
    return f"streamlab-qa-{uuid.uuid4().hex}"
