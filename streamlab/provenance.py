"""Where a result came from, recorded beside it so a researcher can cite it and re-run it.

A `Provenance` holds the exact command line (and the folder it ran in), streamlab's version
and git commit (and whether tracked files were edited since), the Python, numpy and pandas
versions, whether the hot path ran compiled, every seed, and the SHA-256 of every trace, video
description, model (the module of a `--abr package.module:Class` algorithm) and results file
the command read. `compare`, `demo` and `qa` write it as `provenance.json` beside their
results, `sweep` into every Parquet part's metadata, `report` as `report-provenance.json`;
reports show it in a short section. `streamlab reproduce` reads it back.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import shlex
import subprocess
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy
import pandas

from streamlab.compiled import compiled_modules
from streamlab.errors import UsageError

FORMAT = 1
FILE_NAME = "provenance.json"
REPORT_FILE_NAME = "report-provenance.json"
PARQUET_KEY = "streamlab.provenance"  # a sweep part's DataFrame.attrs key (Parquet metadata)
UNKNOWN = "unknown"
ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class InputFile:
    role: str  # trace, video, model, targets, results
    path: str  # as the command was given it (relative to `Provenance.cwd`)
    sha256: str


@dataclass(frozen=True)
class Provenance:
    kind: str  # the command: compare, demo, sweep, qa, report
    args: tuple[str, ...]  # streamlab's arguments, the command's name first
    cwd: str
    pythonpath: str | None  # where `--abr package.module:Class` modules were found
    recorded_at: str  # UTC, ISO 8601
    version: str
    commit: str  # UNKNOWN when streamlab is not run from a git checkout
    dirty: bool | None  # tracked files differ from the commit; None when unknown
    python: str
    numpy: str
    pandas: str
    compiled: tuple[str, ...]  # hot-path modules that ran compiled; empty: interpreted
    seeds: dict[str, int]
    inputs: tuple[InputFile, ...]
    results: str  # the results file, or the pattern of a sweep's parts
    sources: tuple[Provenance, ...] = field(default=())  # report: the results' own records

    @property
    def command_line(self) -> str:
        return shlex.join(["streamlab", *self.args])

    @property
    def build(self) -> str:
        return f"compiled ({len(self.compiled)} modules)" if self.compiled else "interpreted"

    @property
    def revision(self) -> str:
        return _revision(self.version, self.commit, self.dirty)

    def to_json(self) -> str:
        return json.dumps({"format": FORMAT, **asdict(self)}, indent=2) + "\n"

    def write(self, folder: Path, name: str = FILE_NAME) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / name
        path.write_text(self.to_json(), encoding="utf-8")
        return path

    def summary_rows(self) -> list[tuple[str, str]]:
        """The report's short section: what to cite, and where the full record is."""
        roles: dict[str, int] = {}
        for item in self.inputs:
            roles[item.role] = roles.get(item.role, 0) + 1
        counted = ", ".join(
            f"{n} {role}{'s' if n > 1 and not role.endswith('s') else ''}"
            for role, n in roles.items()
        )
        rows = [
            ("command", self.command_line),
            ("streamlab", self.revision),
            ("run with", f"Python {self.python}, numpy {self.numpy}, pandas {self.pandas}"),
            ("build", self.build),
            ("seeds", ", ".join(f"{k} {v}" for k, v in self.seeds.items()) or "none"),
            ("inputs", f"{counted or 'none'}; digest {self.inputs_digest()[:16]}"),
        ]
        made_by = dict.fromkeys(source.command_line for source in self.sources)
        rows += [("results recorded by", command) for command in made_by]
        return rows

    def inputs_digest(self) -> str:
        """One SHA-256 over every input's: the same inputs give the same digest."""
        joined = "\n".join(f"{i.role} {i.sha256}" for i in sorted(self.inputs, key=_input_key))
        return hashlib.sha256(joined.encode()).hexdigest()


def _input_key(item: InputFile) -> tuple[str, str]:
    return (item.role, item.sha256)


def record(
    kind: str,
    args: Sequence[str],
    *,
    seeds: Mapping[str, int],
    inputs: Iterable[tuple[str, str | Path]],
    results: str,
    sources: Sequence[Provenance] = (),
) -> Provenance:
    """The provenance of a command about to run, its inputs hashed now (before they are read)."""
    git_commit, dirty = git_state(ROOT)
    unique = dict.fromkeys((role, str(path)) for role, path in inputs)
    return Provenance(
        kind=kind,
        args=tuple(args),
        cwd=os.getcwd(),
        pythonpath=os.environ.get("PYTHONPATH"),
        recorded_at=datetime.now(UTC).isoformat(timespec="seconds"),
        version=_version(),
        commit=git_commit,
        dirty=dirty,
        python=platform.python_version(),
        numpy=numpy.__version__,
        pandas=pandas.__version__,
        compiled=tuple(compiled_modules()),
        seeds=dict(seeds),
        inputs=tuple(InputFile(role, path, sha256_of(Path(path))) for role, path in unique),
        results=results,
        sources=tuple(sources),
    )


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read it to record its SHA-256 ({exc.strerror})") from exc
    return digest.hexdigest()


def _version() -> str:
    try:
        return importlib.metadata.version("streamlab")
    except importlib.metadata.PackageNotFoundError:
        return UNKNOWN


def git_state(root: Path) -> tuple[str, bool | None]:
    """(commit, dirty) of the checkout streamlab runs from; (UNKNOWN, None) outside one or
    without git. Dirty means tracked files differ from the commit (untracked ones, such as
    results folders, do not count)."""
    if not (root / ".git").exists():  # a file in a worktree, a folder in a clone
        return UNKNOWN, None
    try:
        head = _git(root, "rev-parse", "HEAD")
        changed = _git(root, "status", "--porcelain", "--untracked-files=no")
    except (OSError, subprocess.SubprocessError):
        return UNKNOWN, None
    return head.strip(), bool(changed.strip())


def _git(root: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=30
    ).stdout


def model_files(specs: Iterable[str]) -> list[Path]:
    """The module file of each `package.module:Class` spec (built-in names have none)."""
    files = []
    for spec in specs:
        module, sep, _ = spec.partition(":")
        if not sep:
            continue
        try:
            found = importlib.util.find_spec(module)
        except (ImportError, ValueError):
            found = None
        if found is not None and found.origin and Path(found.origin).is_file():
            files.append(Path(found.origin))
    return files


def from_json(text: str, where: str) -> Provenance:
    """Parse a record written by `Provenance.to_json`; errors name `where`."""
    try:
        data = json.loads(text)
        if data.pop("format") != FORMAT:
            raise ValueError(f"format {data.get('format')!r}, this streamlab reads {FORMAT}")
        return _from_dict(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{where}: not a streamlab provenance record ({exc})") from exc


def _from_dict(data: dict[str, Any]) -> Provenance:
    data = dict(data)
    data.pop("format", None)
    data["args"] = tuple(data["args"])
    data["compiled"] = tuple(data["compiled"])
    data["inputs"] = tuple(InputFile(**item) for item in data["inputs"])
    data["sources"] = tuple(_from_dict(source) for source in data.get("sources", ()))
    return Provenance(**data)


def read(folder: Path) -> list[Provenance]:
    """The records of the results in `folder`: its provenance.json, else every sweep part's
    (a resumed sweep's parts come from several runs), in part order."""
    sidecar = folder / FILE_NAME
    if sidecar.is_file():
        return [from_json(sidecar.read_text(encoding="utf-8"), str(sidecar))]
    records = []
    for part in sorted(folder.glob("part-*.parquet")):
        text = pandas.read_parquet(part).attrs.get(PARQUET_KEY)
        if text is not None:
            records.append(from_json(str(text), str(part)))
    if not records:
        raise UsageError(
            f"{folder}: no {FILE_NAME} and no sweep part with a provenance record "
            "(results written before streamlab recorded provenance, or not a results folder)"
        )
    return records


def current_revision() -> str:
    """The streamlab that runs now, as `Provenance.revision` words it."""
    return _revision(_version(), *git_state(ROOT))


def _revision(version: str, commit: str, dirty: bool | None) -> str:
    changes = ", with uncommitted changes" if dirty else ""
    return f"streamlab {version}, commit {commit}{changes}"
