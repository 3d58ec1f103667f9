"""Parameter sweeps on Dask: videos x algorithms x parameter grid x traces, streamed to Parquet.

Work is cut into tasks of one (video, algorithm, parameter set) over a chunk of traces. Each
finished task becomes one Parquet part file, written by the client as results arrive, so a
100,000-session sweep never holds its results in memory and an interruption loses at most
the tasks in flight. `resume=True` reads the parts already written and skips their sessions.

Parameters name either a session setting (a `SessionConfig` field, e.g. buffer_target_s) or
an algorithm's constructor argument (e.g. gamma_p for bola); they are checked before any
work starts.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from abr.config import SessionConfig
from abr.errors import InputError
from abr.registry import PROFILES, resolve
from simulator.arguments import constructor_arguments
from simulator.compare import Lab, LabSetup
from traces.load import load_trace

if TYPE_CHECKING:
    # Dask is the `sweep` extra: reading results (`streamlab report`) works without it.
    from distributed import Client

SESSION_FIELDS = {f.name for f in dataclasses.fields(SessionConfig)}
KEY_COLUMNS = ("video", "trace_set", "trace", "abr", "params")


class SweepError(InputError, ValueError):
    """A sweep that cannot run or be read (an unknown parameter, an output folder without results)."""


@dataclass(frozen=True)
class SweepTask:
    video: str
    abr: str
    params: tuple[tuple[str, Any], ...]  # sorted (name, value) pairs
    trace_paths: tuple[str, ...]
    profile: str = "default"
    optimal: bool = False

    @property
    def params_json(self) -> str:
        return json.dumps(dict(self.params), sort_keys=True)


@dataclass(frozen=True)
class SweepPlan:
    videos: tuple[str, ...]
    abrs: tuple[str, ...]
    grid: dict[str, tuple[Any, ...]] = field(default_factory=dict)
    profile: str = "default"
    optimal: bool = False

    def combinations(self) -> list[tuple[tuple[str, Any], ...]]:
        names = sorted(self.grid)
        return [
            tuple(zip(names, values, strict=True))
            for values in itertools.product(*(self.grid[n] for n in names))
        ]

    def validate(self) -> None:
        """Fail before any work: unknown parameter names, specs, or values an algorithm rejects."""
        for name in self.grid:
            if name in SESSION_FIELDS:
                continue
            if not any(name in _constructor_args(abr, self.profile) for abr in self.abrs):
                raise SweepError(
                    f"--param {name}: neither a session setting nor an argument of {', '.join(self.abrs)}"
                )
        for params in self.combinations() or [()]:
            session, by_algorithm = split_params(dict(params), self.abrs, self.profile)
            dataclasses.replace(PROFILES[self.profile].session, **session)
            for abr, kwargs in by_algorithm.items():
                resolve(abr, PROFILES[self.profile], **kwargs)()

    def tasks(self, trace_paths: Sequence[str], chunk: int = 16) -> list[SweepTask]:
        chunks = [tuple(trace_paths[i : i + chunk]) for i in range(0, len(trace_paths), chunk)]
        return [
            SweepTask(video, abr, params, paths, self.profile, self.optimal)
            for video in self.videos
            for abr in self.abrs
            for params in self.combinations() or [()]
            for paths in chunks
        ]


def _constructor_args(spec: str, profile: str) -> set[str]:
    algorithm = resolve(spec, PROFILES[profile])()
    return constructor_arguments(type(algorithm))


def split_params(
    params: dict[str, Any], abrs: Sequence[str], profile: str
) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """Session settings, and per algorithm the arguments it accepts."""
    session = {k: v for k, v in params.items() if k in SESSION_FIELDS}
    rest = {k: v for k, v in params.items() if k not in SESSION_FIELDS}
    by_algorithm = {}
    for abr in abrs:
        accepted = _constructor_args(abr, profile)
        by_algorithm[abr] = {k: v for k, v in rest.items() if k in accepted}
    return session, by_algorithm


def run_task(task: SweepTask) -> list[dict[str, Any]]:
    """Every session of one task (runs on a Dask worker or in-process)."""
    params = dict(task.params)
    session, by_algorithm = split_params(params, [task.abr], task.profile)
    profile = PROFILES[task.profile]
    setup = LabSetup(task.video, (task.abr,), task.profile, optimal=task.optimal)
    lab = Lab(setup)
    lab.factories[task.abr] = resolve(task.abr, profile, **by_algorithm[task.abr])
    config = dataclasses.replace(profile.session, **session)
    rows = []
    for path in task.trace_paths:
        for row in lab.rows_for(load_trace(path), config=config):
            row["video"] = Path(task.video).name
            row["params"] = task.params_json
            # Where to find the inputs again: `streamlab report` replays the worst sessions.
            row["video_path"] = task.video
            row["trace_path"] = path
            row.update(params)
            rows.append(row)
    return rows


def done_keys(out_dir: Path) -> set[tuple[str, ...]]:
    """Sessions already in the Parquet parts: (video, trace_set, trace, abr, params)."""
    parts = sorted(out_dir.glob("part-*.parquet"))
    if not parts:
        return set()
    frame = pd.concat(
        (pd.read_parquet(p, columns=list(KEY_COLUMNS)) for p in parts), ignore_index=True
    )
    return set(frame.astype(str).itertuples(index=False, name=None))


def pending(tasks: list[SweepTask], done: set[tuple[str, ...]]) -> list[SweepTask]:
    """Tasks with at least one session not yet written (resume drops finished ones)."""
    kept = []
    for task in tasks:
        video = Path(task.video).name
        missing = [
            p
            for p in task.trace_paths
            if (video, Path(p).parent.name, Path(p).name, task.abr, task.params_json) not in done
        ]
        if missing:
            kept.append(dataclasses.replace(task, trace_paths=tuple(missing)))
    return kept


class PartWriter:
    """One Parquet file per finished task, numbered after those already present.

    `metadata` goes into every part's Parquet metadata (as `DataFrame.attrs`, which pandas
    writes there and `pd.read_parquet` gives back): the sweep's provenance record.
    """

    def __init__(self, out_dir: Path, metadata: Mapping[str, str] | None = None) -> None:
        out_dir.mkdir(parents=True, exist_ok=True)
        self.out_dir = out_dir
        self.metadata = dict(metadata or {})
        numbers = [int(p.stem.split("-")[1]) for p in out_dir.glob("part-*.parquet")]
        self._next = max(numbers, default=-1) + 1
        self.sessions = 0

    def write(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        path = self.out_dir / f"part-{self._next:06d}.parquet"
        tmp = path.with_suffix(".tmp")
        frame = pd.DataFrame(rows)
        frame.attrs.update(self.metadata)
        frame.to_parquet(tmp, index=False)
        tmp.rename(path)  # a part is either complete or absent
        self._next += 1
        self.sessions += len(rows)


def in_process(tasks: list[SweepTask]) -> Iterator[list[dict[str, Any]]]:
    for task in tasks:
        yield run_task(task)


def on_dask(client: Client, tasks: list[SweepTask]) -> Iterator[list[dict[str, Any]]]:
    """Results per task as the cluster finishes them; cancels the rest if the caller stops."""
    from distributed import as_completed

    futures = client.map(run_task, tasks, pure=False)
    try:
        for future in as_completed(futures):
            yield future.result()
    finally:
        client.cancel(futures)


def read_results(out_dir: Path) -> pd.DataFrame:
    parts = sorted(out_dir.glob("part-*.parquet"))
    if not parts:
        raise SweepError(f"{out_dir}: no part-*.parquet files (run streamlab sweep first)")
    return pd.concat((pd.read_parquet(p) for p in parts), ignore_index=True)
