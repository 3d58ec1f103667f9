"""Object store on a local directory: one file per key under the root; objects and whole
titles appear by rename, so a reader never sees half of one."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

from backend_stub.errors import StoreKeyError
from backend_stub.store_base import check_key


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
