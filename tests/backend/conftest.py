"""Backend fixtures: a real `streamlab serve` (origin, workers, nginx edge + shield) on random
ports, real ffmpeg clips, real SQLite. Skipped only when ffmpeg or nginx is missing."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.helpers import Stack, ingest, make_clip, skip_unless_tools, start_serve, stop_serve
from backend.postgres import PostgresCluster, server_bin_dir, start_cluster
from backend.s3server import S3Server, start_s3_server
from backend_stub.auth import create_user
from backend_stub.db import session_factory
from backend_stub.media.ffmpeg import run

skip_unless_tools("backend tests", "ffmpeg", "ffprobe", "nginx")


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """One throwaway PostgreSQL cluster per session; tests each get their own database."""
    bin_dir = server_bin_dir()
    if bin_dir is None:
        pytest.skip(
            "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in "
            "/usr/lib/postgresql/*/bin or on PATH (scripts/install-system-deps.sh installs them)"
        )
    cluster = start_cluster(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture()
def postgres_url(postgres: PostgresCluster) -> str:
    return postgres.create_database(f"t{secrets.token_hex(6)}")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The same test against SQLite (the default) and PostgreSQL (`--database-url`)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'streamlab.db'}"
    url: str = request.getfixturevalue("postgres_url")
    return url


@pytest.fixture(scope="session")
def s3_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[S3Server]:
    server = start_s3_server(tmp_path_factory.mktemp("s3") / "moto.log")
    yield server
    server.stop()


@pytest.fixture()
def s3_url(s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> str:
    """A fresh bucket; the AWS variables set as a user would (boto3's standard chain)."""
    bucket = f"streamlab-{secrets.token_hex(4)}"
    s3_server.client().create_bucket(Bucket=bucket)
    for name, value in s3_server.env.items():
        monkeypatch.setenv(name, value)
    return f"s3://{bucket}/lab?endpoint={s3_server.endpoint}"


@pytest.fixture(scope="session")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_clip(tmp_path_factory.mktemp("clips") / "clip.mp4")


@pytest.fixture(scope="session")
def tones(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Separate audio files as a user would have them: AAC in .m4a (longer than the 10 s
    clip, so it must be cut to the picture) and MP3."""
    out = tmp_path_factory.mktemp("tones")
    files = {"fr": (out / "fr.m4a", 660, 12, "aac"), "de": (out / "de.mp3", 880, 10, "libmp3lame")}
    for path, hz, seconds, codec in files.values():
        run(
            ["ffmpeg", "-v", "error", "-y", "-f", "lavfi", "-i",
             f"sine=frequency={hz}:sample_rate=44100", "-t", str(seconds), "-c:a", codec,
             str(path)],
            f"making {path.name}",
        )  # fmt: skip
    return {lang: path for lang, (path, *_rest) in files.items()}


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data_dir = tmp_path_factory.mktemp("serve-data")
    proc, info = start_serve(
        data_dir,
        "--workers",
        "2",
        "--preset",
        "ultrafast",
        "--hls-ts",
        "--device-cap",
        "mobile=360",
        "--visibility-timeout",
        "10",
        "--debug-endpoints",  # the origin fetch counter the CDN tests read
    )
    st = Stack(data_dir, info["api"], info["edge"], info["shield"], info["origin"], proc)
    sessions = session_factory(st.config.database_url)
    for name in ("alice", "bob"):
        create_user(sessions, name, f"{name}-pw")
    sessions.kw["bind"].dispose()
    yield st
    stop_serve(proc)


@pytest.fixture(scope="session")
def ready_video(stack: Stack, clip: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    vtt = tmp_path_factory.mktemp("subs") / "en.vtt"
    vtt.write_text("WEBVTT\n\n00:00:01.000 --> 00:00:03.000\nHello from the test pattern\n")
    return ingest(stack, clip, "Fixture Pattern", intro=(1.0, 4.0), subtitles=(("en", vtt),))


@pytest.fixture(scope="session")
def deployed(
    postgres: PostgresCluster, s3_server: S3Server, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Stack, str]]:
    database_url = postgres.create_database(f"t{secrets.token_hex(6)}")
    bucket = f"streamlab-{secrets.token_hex(4)}"
    s3_server.client().create_bucket(Bucket=bucket)
    data_dir = tmp_path_factory.mktemp("deployed")
    proc, info = start_serve(
        data_dir,
        "--workers", "1",
        "--preset", "ultrafast",
        "--database-url", database_url,
        "--store-url", f"s3://{bucket}/vod?endpoint={s3_server.endpoint}",
        "--debug-endpoints",
        env=s3_server.env,
    )  # fmt: skip
    stack = Stack(data_dir, info["api"], info["edge"], info["shield"], info["origin"], proc)
    sessions = session_factory(database_url)
    for name in ("alice", "bob"):
        create_user(sessions, name, f"{name}-pw")
    sessions.kw["bind"].dispose()
    yield stack, bucket
    stop_serve(proc)


@pytest.fixture(scope="session")
def deployed_video(deployed: tuple[Stack, str], clip: Path) -> str:
    """Encrypted with cbcs, so the one ingest on this stack also covers Shaka's packaging
    published to S3 and the cbcs key signalling (test_drm)."""
    return ingest(
        deployed[0],
        clip,
        "On PostgreSQL and S3",
        options=(("encrypt", True), ("drm_scheme", "cbcs")),
    )


@pytest.fixture()
def alice(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('alice')}"}


@pytest.fixture()
def bob(stack: Stack) -> dict[str, str]:
    return {"Authorization": f"Bearer {stack.token('bob')}"}
