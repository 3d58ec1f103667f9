"""Object store with S3-style keys (`raw/{video_id}/…`, `media/{video_id}/…`).

`open_store(url)` picks the backend by URL scheme: `file://DIR` (or a plain path) for the
filesystem layout below, `s3://BUCKET/PREFIX?endpoint=…` for an S3-compatible service
(`store_s3.py`).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

from backend_stub.errors import ConfigError, StoreKeyError


def check_key(key: str) -> str:
    """Keys are relative, '/'-separated, with no empty, '.' or '..' parts (S3 would allow
    them, but a filesystem layout must not escape its root)."""
    if not key or key.startswith("/") or key.endswith("/"):
        raise StoreKeyError(f"bad object key {key!r}: must be relative and name an object")
    for part in key.split("/"):
        if part in ("", ".", "..") or "\\" in part or "\x00" in part:
            raise StoreKeyError(f"bad object key {key!r}: part {part!r} is not allowed")
    return key


class ObjectStore(Protocol):
    def put_file(self, key: str, src: Path) -> None: ...
    def put_bytes(self, key: str, data: bytes) -> None: ...
    def get_bytes(self, key: str) -> bytes:
        """The object's bytes; StoreKeyError if there is none."""
        ...

    def get_file(self, key: str, dest: Path) -> Path:
        """A local copy of the object at dest (for ffmpeg's inputs); StoreKeyError if none."""
        ...

    def exists(self, key: str) -> bool: ...
    def list(self, prefix: str) -> Iterator[str]:
        """Keys under prefix taken as a directory, sorted."""
        ...

    def delete_prefix(self, prefix: str) -> int: ...
    def local_path(self, key: str) -> Path | None:
        """A path the origin may serve directly (sendfile), or None for remote stores."""
        ...

    def put_tree(self, prefix: str, src_dir: Path) -> int:
        """Publish a whole title's output under prefix, replacing the previous one."""
        ...


class FilesystemStore:
    def __init__(self, root: Path) -> None:
        self.root = Path(root).resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def put_file(self, key: str, src: Path) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Write under a temporary name then rename, so a reader never sees half an object.
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".put-")
        os.close(fd)
        try:
            shutil.copyfile(src, tmp)
            os.replace(tmp, dest)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def put_bytes(self, key: str, data: bytes) -> None:
        dest = self._path(key)
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=".put-")
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, dest)

    def get_bytes(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError as exc:
            raise StoreKeyError(f"no object {key!r} in {self.root}") from exc

    def get_file(self, key: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            shutil.copyfile(self._path(key), dest)
        except FileNotFoundError as exc:
            raise StoreKeyError(f"no object {key!r} in {self.root}") from exc
        return dest

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def list(self, prefix: str) -> Iterator[str]:
        base = self.root / prefix.rstrip("/") if prefix else self.root
        if not base.is_dir():
            return
        for path in sorted(base.rglob("*")):
            if path.is_file() and not path.name.startswith(".put-"):
                yield path.relative_to(self.root).as_posix()

    def delete_prefix(self, prefix: str) -> int:
        check_key(prefix.rstrip("/"))
        base = self.root / prefix.rstrip("/")
        if not base.exists():
            return 0
        count = sum(1 for p in base.rglob("*") if p.is_file())
        shutil.rmtree(base)
        return count

    def local_path(self, key: str) -> Path | None:
        return self._path(key)

    def put_tree(self, prefix: str, src_dir: Path) -> int:
        """Publish a whole directory under prefix (replacing what was there): a re-run
        job leaves exactly its own output, never a mix with a dead attempt's files."""
        check_key(prefix.rstrip("/"))
        dest = self.root / prefix.rstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".put-"))
        shutil.copytree(src_dir, staging, dirs_exist_ok=True)
        old = None
        if dest.exists():
            old = dest.with_name(f".old-{dest.name}-{os.getpid()}")
            os.replace(dest, old)
        os.replace(staging, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        return sum(1 for p in dest.rglob("*") if p.is_file())


def open_store(url: str) -> ObjectStore:
    """The store for url; an S3 store checks its bucket at once, so a wrong bucket, bad
    credentials or an unreachable endpoint fail here with a StoreError naming the URL."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return FilesystemStore(Path(parsed.path if parsed.scheme else url))
    if parsed.scheme == "s3":
        from backend_stub.store_s3 import S3Location, S3Store

        return S3Store(S3Location.parse(url))
    raise ConfigError(
        f"object store URL {url!r}: scheme {parsed.scheme!r} is not supported "
        "(file://DIR or s3://BUCKET/PREFIX?endpoint=URL)"
    )
