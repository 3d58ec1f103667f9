"""`streamlab serve --database-url postgresql+psycopg://… --store-url s3://…`: the deployment
shape of a real service, on a throwaway PostgreSQL cluster and a local S3-compatible server.
Ingest to READY, playback through the nginx tiers from S3, progress last-write-wins. (The
stack and its title, encrypted with cbcs, are conftest's `deployed` / `deployed_video`;
test_drm checks that title's keys.)"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin

import httpx
import pytest
from sqlalchemy import select

from abr.manifests import media_playlist_urls, parse_hls
from backend.helpers import REPO, Stack
from backend.postgres import PostgresCluster
from backend.s3server import S3Server
from backend_stub.db import session_factory
from backend_stub.errors import ConfigError
from backend_stub.models import TranscodingJob


def test_ingest_reaches_ready_and_plays_from_s3_through_the_edge(
    deployed: tuple[Stack, str], deployed_video: str, s3_server: S3Server
) -> None:
    stack, bucket = deployed
    assert stack.config.database_url.startswith("postgresql+psycopg://")
    sessions = session_factory(stack.config.database_url)
    with sessions() as s:
        job = s.scalars(
            select(TranscodingJob).where(TranscodingJob.video_id == deployed_video)
        ).one()
    sessions.kw["bind"].dispose()
    assert (job.status, job.attempts) == ("DONE", 1)
    s3 = s3_server.client()
    keys = {
        o["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket)
        for o in page.get("Contents", [])
    }
    assert f"vod/raw/{deployed_video}/source.mp4" in keys
    assert {f"vod/media/{deployed_video}/{n}" for n in ("master.m3u8", "manifest.mpd")} <= keys
    assert not (stack.data_dir / "store").exists()  # nothing went to the local disk store

    alice = {"Authorization": f"Bearer {stack.token('alice')}"}
    m = httpx.get(f"{stack.api}/api/v1/videos/{deployed_video}/manifest", headers=alice).json()
    master_url = m["master_playlist_url"]
    assert master_url.startswith(stack.edge)
    master = httpx.get(master_url).text
    playlists = {u: httpx.get(u).text for u in media_playlist_urls(master, master_url)}
    presentation = parse_hls(master, master_url, playlists)
    segment_url = presentation.renditions[0].segments[1].url
    key = "media/" + segment_url.split("/media/", 1)[1]
    first = httpx.get(segment_url)
    assert first.status_code == 200 and first.headers["x-cache"] == "MISS"
    assert first.content == s3.get_object(Bucket=bucket, Key=f"vod/{key}")["Body"].read()
    again = httpx.get(segment_url)
    assert again.headers["x-cache"] == "HIT" and again.content == first.content
    assert stack.fetches(key) == 1  # the origin read S3 once; the tiers served the rest
    init = presentation.renditions[0].init
    assert init is not None and httpx.get(urljoin(master_url, init.url)).status_code == 200


def test_progress_is_last_write_wins_on_postgresql_even_under_concurrent_reports(
    deployed: tuple[Stack, str], deployed_video: str
) -> None:
    stack, _ = deployed
    bob = {"Authorization": f"Bearer {stack.token('bob')}"}
    sid = httpx.get(f"{stack.api}/api/v1/videos/{deployed_video}/manifest", headers=bob).json()[
        "playback_session_id"
    ]

    # Recent stamps: the origin refuses one more than a day ahead of its clock.
    base = int(time.time()) - 1000

    def report(offset: float, at: float) -> httpx.Response:
        return httpx.post(
            f"{stack.api}/api/v1/playback/progress",
            headers=bob,
            json={
                "video_id": deployed_video,
                "playback_session_id": sid,
                "offset_seconds": offset,
                "device_id": "tv",
                "reported_at": at,
            },
        )

    assert report(3.0, base + 10).json()["applied"] is True
    assert report(3.0, base + 10).status_code == 200  # a retry is harmless
    assert report(6.0, base + 20).json()["applied"] is True
    assert report(4.0, base + 15).json()["applied"] is False  # late and older: ignored
    # Twenty devices report at once, in scrambled order: the newest reported_at wins.
    stamps = [base + 100 + (k * 7) % 20 for k in range(20)]
    barrier = threading.Barrier(len(stamps))
    codes: list[int] = []

    def send(at: int) -> None:
        barrier.wait()
        codes.append(report(((at - base) % 100) / 20, at).status_code)

    threads = [threading.Thread(target=send, args=(at,)) for at in stamps]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == [200] * len(stamps)
    rows = httpx.get(f"{stack.api}/api/v1/users/me/continue-watching", headers=bob).json()["items"]
    (row,) = [r for r in rows if r["video_id"] == deployed_video]
    assert (row["offset_seconds"], row["reported_at"]) == (0.95, base + 119)


def test_serve_refuses_a_bad_store_naming_it(s3_server: S3Server, tmp_path: Path) -> None:
    no_bucket = f"s3://no-such-bucket?endpoint={s3_server.endpoint}"
    proc = subprocess.run(
        [sys.executable, "-m", "streamlab.commands.serve", "--data-dir", str(tmp_path),
         "--api-port", "0", "--edge-port", "0", "--shield-port", "0", "--store-url", no_bucket],
        capture_output=True, text=True, cwd=REPO, timeout=60, env={**os.environ, **s3_server.env},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert no_bucket in proc.stderr and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_an_unusable_database_is_a_clear_error_naming_it(postgres: PostgresCluster) -> None:
    # What `serve` prints (exit 2, like the store above) for a database it cannot use.
    missing_db = f"postgresql://streamlab@127.0.0.1:{postgres.port}/no_such_db"  # psycopg 3
    with pytest.raises(
        ConfigError, match=r"cannot use database postgresql\+psycopg://.*no_such_db.*does not exist"
    ):
        session_factory(missing_db)
    with pytest.raises(ConfigError, match="database URL 'not a url'"):
        session_factory("not a url")
