"""The object store's interface and its keys, which every store implementation shares.

Keys are S3-style: `raw/{video_id}/…` for uploads, `media/{video_id}/…` for published titles.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

from backend_stub.errors import StoreKeyError


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
