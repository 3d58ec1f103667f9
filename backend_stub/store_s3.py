"""S3-compatible object store (AWS S3, MinIO, Ceph RGW, …) behind the ObjectStore interface.

URL: `s3://BUCKET[/PREFIX][?endpoint=http://host:port][&region=REGION]`. Credentials come
from boto3's standard chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN,
AWS_PROFILE, instance roles), never from the URL: the URL is saved in backend.json. Without
`endpoint` boto3's own resolution applies (AWS_ENDPOINT_URL, else AWS). Addressing is
path-style, which every S3-compatible server accepts.

Title publish (`put_tree`) cannot be one rename as on a filesystem; S3 only makes single
objects atomic. The order makes it safe enough for players: every segment, init, image and
text object first, then media playlists, then the entry points (`master.m3u8`,
`ts/master.m3u8`, `manifest.mpd`) last, then the keys the previous publish had and this one
does not are deleted. So a
playlist never names an object that is not there yet; during a re-publish a reader may get
objects of either run under the same names (same ladder timing and key, since the job is
the same title).
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlparse

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from backend_stub.errors import ConfigError, StoreError, StoreKeyError
from backend_stub.store_base import check_key

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client
    from mypy_boto3_s3.type_defs import ObjectIdentifierTypeDef

_MANIFEST_SUFFIXES = (".m3u8", ".mpd")
_ENTRY_POINTS = ("master.m3u8", "manifest.mpd")
_PUBLISH_THREADS = 8


@dataclass(frozen=True)
class S3Location:
    url: str
    bucket: str
    prefix: str  # "" or "some/prefix/" (always ending in '/')
    endpoint: str | None
    region: str

    @classmethod
    def parse(cls, url: str) -> S3Location:
        parsed = urlparse(url)
        if parsed.username or parsed.password:
            raise ConfigError(
                f"object store URL {url!r} carries credentials: put them in AWS_ACCESS_KEY_ID / "
                "AWS_SECRET_ACCESS_KEY instead (the URL is saved in backend.json)"
            )
        if not parsed.hostname:
            raise ConfigError(f"object store URL {url!r} names no bucket (s3://BUCKET/PREFIX)")
        query = parse_qs(parsed.query)
        unknown = set(query) - {"endpoint", "region"}
        if unknown:
            raise ConfigError(
                f"object store URL {url!r}: unknown parameters {sorted(unknown)} "
                "(known: endpoint, region)"
            )
        endpoint = query.get("endpoint", [None])[0]
        if endpoint is not None and urlparse(endpoint).scheme not in ("http", "https"):
            raise ConfigError(f"object store URL {url!r}: endpoint {endpoint!r} is not http(s)://")
        prefix = parsed.path.strip("/")
        if prefix:
            check_key(prefix)
        region = (
            query.get("region", [None])[0]
            or os.environ.get("AWS_REGION")
            or os.environ.get("AWS_DEFAULT_REGION")
            or "us-east-1"
        )
        # The bucket name is case-sensitive; urlparse lower-cases hostname, netloc keeps it.
        return cls(url, parsed.netloc, f"{prefix}/" if prefix else "", endpoint, region)


class S3Store:
    def __init__(self, location: S3Location) -> None:
        self.location = location
        self.bucket = location.bucket
        self._client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=location.endpoint,
            region_name=location.region,
            config=Config(
                s3={"addressing_style": "path"},
                connect_timeout=5,
                read_timeout=60,
                retries={"max_attempts": 3, "mode": "standard"},
                max_pool_connections=_PUBLISH_THREADS * 2,
            ),
        )
        self._check_bucket()

    def _where(self) -> str:
        endpoint = self.location.endpoint or self._client.meta.endpoint_url
        return f"object store {self.location.url} (endpoint {endpoint})"

    def _error(self, exc: Exception, doing: str) -> StoreError:
        """One clear message naming the store URL for the failures a user can fix."""
        where = self._where()
        if isinstance(exc, NoCredentialsError):
            return StoreError(
                f"{where}: no AWS credentials; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY "
                "(or AWS_PROFILE)"
            )
        if isinstance(exc, ClientError):
            err = exc.response.get("Error", {})
            code = str(err.get("Code", ""))
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            if code == "NoSuchBucket":
                return StoreError(f"{where}: bucket {self.bucket!r} does not exist")
            if status == 403 or code in (
                "AccessDenied",
                "InvalidAccessKeyId",
                "SignatureDoesNotMatch",
                "403",
            ):
                return StoreError(
                    f"{where}: access denied {doing} ({code}); check AWS_ACCESS_KEY_ID / "
                    "AWS_SECRET_ACCESS_KEY and the bucket's policy"
                )
            return StoreError(f"{where}: {doing} failed: {code} {err.get('Message', '')}".strip())
        return StoreError(f"{where}: {doing} failed: {exc}")

    def _check_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            # HEAD responses have no body, so a missing bucket is just "404" here.
            if exc.response.get("Error", {}).get("Code") == "404":
                raise StoreError(f"{self._where()}: bucket {self.bucket!r} does not exist") from exc
            raise self._error(exc, "checking the bucket") from exc
        except BotoCoreError as exc:
            raise self._error(exc, "checking the bucket") from exc

    def _key(self, key: str) -> str:
        return self.location.prefix + check_key(key)

    def put_file(self, key: str, src: Path) -> None:
        try:
            # upload_file switches to multipart for large sources; an object appears only
            # once complete, so readers never see half of it.
            self._client.upload_file(str(src), self.bucket, self._key(key))
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, f"uploading {key}") from exc

    def put_bytes(self, key: str, data: bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=self._key(key), Body=data)
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, f"writing {key}") from exc

    def get_bytes(self, key: str) -> bytes:
        try:
            obj = self._client.get_object(Bucket=self.bucket, Key=self._key(key))
            return obj["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StoreKeyError(f"no object {key!r} in {self.location.url}") from exc
            raise self._error(exc, f"reading {key}") from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"reading {key}") from exc

    def get_file(self, key: str, dest: Path) -> Path:
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._client.download_file(self.bucket, self._key(key), str(dest))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise StoreKeyError(f"no object {key!r} in {self.location.url}") from exc
            raise self._error(exc, f"downloading {key}") from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"downloading {key}") from exc
        return dest

    def exists(self, key: str) -> bool:
        try:
            self._client.head_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return False
            raise self._error(exc, f"looking up {key}") from exc
        except BotoCoreError as exc:
            raise self._error(exc, f"looking up {key}") from exc
        return True

    def list(self, prefix: str) -> Iterator[str]:
        """Keys under prefix, as a directory: 'media/v1' lists 'media/v1/…', not 'media/v10'."""
        base = self.location.prefix + (check_key(prefix.rstrip("/")) + "/" if prefix else "")
        strip = len(self.location.prefix)
        try:
            pages = self._client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=base
            )
            keys = [obj["Key"][strip:] for page in pages for obj in page.get("Contents", [])]
        except (BotoCoreError, ClientError) as exc:
            raise self._error(exc, f"listing {prefix or '/'}") from exc
        yield from sorted(keys)

    def delete_prefix(self, prefix: str) -> int:
        return self._delete(list(self.list(check_key(prefix.rstrip("/")))))

    def _delete(self, keys: Sequence[str]) -> int:
        for start in range(0, len(keys), 1000):  # DeleteObjects takes at most 1000 keys
            batch: Sequence[ObjectIdentifierTypeDef] = [
                {"Key": self.location.prefix + k} for k in keys[start : start + 1000]
            ]
            try:
                resp = self._client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            except (BotoCoreError, ClientError) as exc:
                raise self._error(exc, f"deleting {len(batch)} objects") from exc
            if resp.get("Errors"):
                first = resp["Errors"][0]
                raise StoreError(
                    f"{self._where()}: deleting {first.get('Key')} failed: {first.get('Code')}"
                )
        return len(keys)

    def local_path(self, key: str) -> Path | None:
        return None

    def put_tree(self, prefix: str, src_dir: Path) -> int:
        """Publish src_dir under prefix, replacing what was there, in the order the module
        docstring explains (objects, media playlists, entry points, then deletes)."""
        base = check_key(prefix.rstrip("/"))
        old = set(self.list(base))
        files = sorted(p for p in src_dir.rglob("*") if p.is_file())
        keys = {f"{base}/{p.relative_to(src_dir).as_posix()}": p for p in files}

        def stage(key: str) -> int:
            # Masters (master.m3u8, ts/master.m3u8, manifest.mpd) name the media playlists,
            # which name the segments: upload in the opposite order.
            if key.rsplit("/", 1)[-1] in _ENTRY_POINTS:
                return 2
            return 1 if key.endswith(_MANIFEST_SUFFIXES) else 0

        with ThreadPoolExecutor(_PUBLISH_THREADS) as pool:
            for level in (0, 1, 2):
                batch = [k for k in keys if stage(k) == level]
                # list() re-raises the first upload error before the next stage starts.
                list(pool.map(lambda k: self.put_file(k, keys[k]), batch))
        self._delete(sorted(old - set(keys)))
        return len(keys)
