"""`open_store(url)`: the object store a URL names, by scheme: `file://DIR` (or a plain
path) for a directory (`store_fs.py`), `s3://BUCKET/PREFIX?endpoint=…` for an S3-compatible
service (`store_s3.py`). Both implement `store_base.ObjectStore`.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlparse

from backend_stub.errors import ConfigError
from backend_stub.store_base import ObjectStore
from backend_stub.store_fs import FilesystemStore


def open_store(url: str) -> ObjectStore:
    """The store for url; an S3 store checks its bucket at once, so a wrong bucket, bad
    credentials or an unreachable endpoint fail here with a StoreError naming the URL."""
    parsed = urlparse(url)
    if parsed.scheme in ("", "file"):
        return FilesystemStore(Path(parsed.path if parsed.scheme else url))
    if parsed.scheme == "s3":
        # boto3 takes ~0.15 s to import: only processes that use S3 pay for it.
        from backend_stub.store_s3 import S3Location, S3Store

        return S3Store(S3Location.parse(url))
    raise ConfigError(
        f"object store URL {url!r}: scheme {parsed.scheme!r} is not supported "
        "(file://DIR or s3://BUCKET/PREFIX?endpoint=URL)"
    )
