"""N real sessions, C at a time, in one event loop; a progress bar on the terminal.

Sessions share one process: the engine is asyncio, libmpv decodes in its own threads, and
each shaper is a few coroutines. Above the measured concurrency limits the harness itself
(on 2 cores) starts to shape the sessions more than the traces do, so `streamlab qa`
refuses to run there unless told to.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass

import psutil
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from player.api import Title
from qa.session import SessionOutcome, SessionSpec
from traces.trace import Trace

# Measured on the 2-core development machine (docs/qa.md): above this many concurrent
# sessions the shapers fall short of their traces and sessions stall on links with room to
# spare, because the harness and the machine run out of CPU.
CONCURRENCY_LIMIT_DECODE = 8
CONCURRENCY_LIMIT_NO_DECODE = 16
FIRST_WAVE_STAGGER_S = 0.3


@dataclass(frozen=True)
class RunStats:
    wall_s: float
    cpu_s: float  # this process's user + system time over the run (children excluded)

    def cpu_per_session_s(self, sessions: int) -> float:
        return self.cpu_s / sessions if sessions else 0.0


def plan(
    traces: Sequence[Trace],
    titles: Sequence[Title],
    sessions: int,
    abr: str,
    live_seconds: float | None = None,
) -> list[SessionSpec]:
    """Traces round-robin over the sessions, titles round-robin too (one title: all); a live
    channel's sessions watch it for `live_seconds` each."""
    return [
        SessionSpec(i, traces[i % len(traces)], titles[i % len(titles)].video_id, abr, live_seconds)
        for i in range(sessions)
    ]


@contextlib.contextmanager
def session_bar(total: int, show: bool) -> Iterator[Callable[[bool], None]]:
    """A progress bar over `total` sessions (shown when `show`); yields `done(failed)`, to
    call as each session ends."""
    with Progress(
        TextColumn("[bold]qa[/bold] sessions"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeElapsedColumn(),
        disable=not show,
        transient=False,
    ) as bar:
        task = bar.add_task("sessions", total=total, failed=0)
        failed = 0

        def done(session_failed: bool) -> None:
            nonlocal failed
            failed += session_failed
            bar.update(task, advance=1, failed=failed)

        yield done


async def run_all(
    specs: Sequence[SessionSpec],
    concurrency: int,
    play_one: Callable[[SessionSpec], Awaitable[SessionOutcome]],
    show_progress: bool,
) -> tuple[list[SessionOutcome], RunStats]:
    gate = asyncio.Semaphore(concurrency)
    me = psutil.Process()
    cpu0 = me.cpu_times()
    start = time.monotonic()
    outcomes: list[SessionOutcome | None] = [None] * len(specs)
    with session_bar(len(specs), show_progress) as done:

        async def one(position: int, spec: SessionSpec) -> None:
            async with gate:
                if position < concurrency:
                    # The first wave starts staggered, as viewers do: started in the same
                    # instant, C sessions with one fresh token queue on the edge's cache lock
                    # (re-checked every 500 ms), which says nothing about the network.
                    await asyncio.sleep(position * FIRST_WAVE_STAGGER_S)
                outcome = await play_one(spec)
            outcomes[position] = outcome
            done(outcome.failed)

        await asyncio.gather(*(one(i, spec) for i, spec in enumerate(specs)))
    cpu1 = me.cpu_times()
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    finished = [o for o in outcomes if o is not None]
    return finished, RunStats(time.monotonic() - start, cpu)
