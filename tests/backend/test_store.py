"""The object store, filesystem and S3 (a local S3-compatible server), behind one interface:
the same behaviour from both, and clear errors naming the store URL when S3 is unusable."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.s3server import S3Server
from backend_stub.errors import ConfigError, StoreError, StoreKeyError
from backend_stub.store import open_store
from backend_stub.store_base import ObjectStore


@pytest.fixture(params=["file", "s3"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> ObjectStore:
    if request.param == "file":
        return open_store(f"file://{tmp_path / 'store'}")
    url: str = request.getfixturevalue("s3_url")
    return open_store(url)


def _tree(root: Path, files: dict[str, bytes]) -> Path:
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root


def test_put_get_list_delete(store: ObjectStore, tmp_path: Path) -> None:
    store.put_bytes("media/v1/r0/seg-00001.m4s", b"segment")
    store.put_bytes("media/v10/master.m3u8", b"#EXTM3U\n")
    src = tmp_path / "source.mp4"
    src.write_bytes(b"\x00" * 70_000)
    store.put_file("raw/v1/source.mp4", src)
    assert store.get_bytes("media/v1/r0/seg-00001.m4s") == b"segment"
    assert store.exists("raw/v1/source.mp4") and not store.exists("raw/v1/nothing.mp4")
    # A prefix is a directory: media/v1 does not list media/v10.
    assert list(store.list("media/v1")) == ["media/v1/r0/seg-00001.m4s"]
    copy = store.get_file("raw/v1/source.mp4", tmp_path / "in" / "copy.mp4")
    assert copy.read_bytes() == src.read_bytes()
    with pytest.raises(StoreKeyError, match=r"no object 'media/v1/missing\.m4s'"):
        store.get_bytes("media/v1/missing.m4s")
    with pytest.raises(StoreKeyError, match="no object"):
        store.get_file("raw/v2/source.mp4", tmp_path / "in" / "x")
    with pytest.raises(StoreKeyError, match="bad object key"):
        store.put_bytes("media/../../etc/passwd", b"x")
    assert store.delete_prefix("media/v1") == 1
    assert list(store.list("media/v1")) == [] and store.exists("media/v10/master.m3u8")


def test_put_tree_replaces_a_title_leaving_nothing_of_the_previous_run(
    store: ObjectStore, tmp_path: Path
) -> None:
    first = _tree(
        tmp_path / "run1",
        {"master.m3u8": b"old", "r0/seg-00001.m4s": b"a1", "r5/seg-00001.m4s": b"gone"},
    )
    assert store.put_tree("media/v1", first) == 3
    second = _tree(
        tmp_path / "run2",
        {"master.m3u8": b"new", "media_0.m3u8": b"m", "r0/seg-00001.m4s": b"a2"},
    )
    assert store.put_tree("media/v1", second) == 3
    assert list(store.list("media/v1")) == [
        "media/v1/master.m3u8",
        "media/v1/media_0.m3u8",
        "media/v1/r0/seg-00001.m4s",
    ]
    assert store.get_bytes("media/v1/master.m3u8") == b"new"
    assert store.get_bytes("media/v1/r0/seg-00001.m4s") == b"a2"


def test_s3_keys_live_under_the_url_prefix(s3_server: S3Server, s3_url: str) -> None:
    store = open_store(s3_url)
    store.put_bytes("media/v1/master.m3u8", b"#EXTM3U\n")
    bucket = s3_url.split("/")[2]
    listed = s3_server.client().list_objects_v2(Bucket=bucket)["Contents"]
    assert [o["Key"] for o in listed] == ["lab/media/v1/master.m3u8"]
    assert store.local_path("media/v1/master.m3u8") is None  # the origin must read it


def test_unusable_s3_stores_fail_at_once_naming_the_url(
    s3_server: S3Server, s3_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint = s3_server.endpoint
    missing = f"s3://no-such-bucket/x?endpoint={endpoint}"
    with pytest.raises(
        StoreError, match=r"s3://no-such-bucket/x.*bucket 'no-such-bucket' does not exist"
    ):
        open_store(missing)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "wrong-secret")
    with pytest.raises(StoreError, match=r"access denied checking the bucket .*AWS_ACCESS_KEY_ID"):
        open_store(s3_url)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    with pytest.raises(StoreError, match="no AWS credentials"):
        open_store(s3_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_server.secret_key)
    closed = "s3://media?endpoint=http://127.0.0.1:9"  # discard port: nothing listens
    with pytest.raises(StoreError, match=r"s3://media\?endpoint=http://127.0.0.1:9.*failed"):
        open_store(closed)
    with pytest.raises(ConfigError, match="carries credentials"):
        open_store(f"s3://AKIA:secret@media?endpoint={endpoint}")
    with pytest.raises(ConfigError, match="unknown parameters"):
        open_store(f"s3://media?endpoint={endpoint}&acl=public")
    with pytest.raises(ConfigError, match="scheme 'gs' is not supported"):
        open_store("gs://media")


def test_s3_publish_uploads_playlists_after_what_they_name_and_deletes_last(
    s3_url: str, tmp_path: Path
) -> None:
    """On S3 a title cannot appear in one rename: a player must never fetch a playlist that
    names an object not uploaded yet, nor lose an object the old playlist still names."""
    store = open_store(s3_url)
    store.put_tree("media/v1", _tree(tmp_path / "old", {"master.m3u8": b"old", "r9/x.m4s": b"x"}))
    calls: list[tuple[str, str]] = []

    def record(params: dict[str, object], event_name: str, **_kw: object) -> None:
        op = event_name.rsplit(".", 1)[-1]
        key = str(params.get("Key", "")).removeprefix("lab/media/v1/")
        calls.append((op, key))

    store._client.meta.events.register("provide-client-params.s3.PutObject", record)  # type: ignore[attr-defined]
    store._client.meta.events.register("provide-client-params.s3.DeleteObjects", record)  # type: ignore[attr-defined]
    files = {f"r{r}/seg-{i:05d}.m4s": b"s" for r in range(3) for i in range(1, 6)}
    files |= {f"r{r}/init.m4s": b"i" for r in range(3)}
    files |= {f"media_{r}.m3u8": b"m" for r in range(3)}
    files |= {"master.m3u8": b"new", "manifest.mpd": b"<MPD/>", "poster.jpg": b"j"}
    files |= {"ts/r0/seg-00000.ts": b"t", "ts/r0/index.m3u8": b"m", "ts/master.m3u8": b"t"}
    store.put_tree("media/v1", _tree(tmp_path / "new", files))
    order = [key for op, key in calls if op == "PutObject"]
    assert sorted(order) == sorted(files)
    last_object = max(i for i, k in enumerate(order) if not k.endswith((".m3u8", ".mpd")))
    masters = {"master.m3u8", "manifest.mpd", "ts/master.m3u8"}
    media_playlists = [i for i, k in enumerate(order) if k.endswith(".m3u8") and k not in masters]
    assert last_object < min(media_playlists)
    assert max(media_playlists) < len(order) - 3 and set(order[-3:]) == masters
    assert calls[-1][0] == "DeleteObjects"  # r9/x.m4s goes only once the new master is up
    assert not store.exists("media/v1/r9/x.m4s")
