"""A throwaway PostgreSQL cluster for the tests: Debian's server binaries, initdb into a fresh
directory, listening on 127.0.0.1 at a free port with its unix socket in that directory.

PostgreSQL refuses to run as root (initdb and postgres both check), and CI runs the suite as
root on a clean clone: then the cluster runs as the `postgres` system user the Debian package
creates (`nobody` if it is missing), in a directory under /tmp that user owns — pytest's own
tmp dirs are 0700 root and unreachable for it.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg


def server_bin_dir() -> Path | None:
    """The newest /usr/lib/postgresql/*/bin with initdb, pg_ctl and postgres; else PATH's."""
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin"),
        key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True,
    )
    on_path = shutil.which("initdb")
    if on_path:
        candidates.append(Path(on_path).parent)
    for bin_dir in candidates:
        if all((bin_dir / tool).exists() for tool in ("initdb", "pg_ctl", "postgres")):
            return bin_dir
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class PostgresCluster:
    bin_dir: Path
    root: Path
    port: int
    run_as: pwd.struct_passwd | None  # None: the current (non-root) user

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://streamlab@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        ids = (
            {} if self.run_as is None else {"user": self.run_as.pw_uid, "group": self.run_as.pw_gid}
        )
        proc = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            capture_output=True,
            text=True,
            cwd=self.root,
            **ids,  # type: ignore[arg-type]
        )
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text()[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {proc.stderr.strip()}\n{tail}")

    def start(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-U", "streamlab", "--auth=trust", "--no-sync",
            "-E", "UTF8", "--locale=C",
        )  # fmt: skip
        # fsync off: a throwaway cluster loses nothing that matters in a crash.
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "30",
            "-o", options, "start",
        )  # fmt: skip

    def stop(self) -> None:
        try:
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        with psycopg.connect(
            host="127.0.0.1", port=self.port, user="streamlab", dbname="postgres", autocommit=True
        ) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)


def start_cluster(bin_dir: Path) -> PostgresCluster:
    run_as = None
    if os.geteuid() == 0:
        try:
            run_as = pwd.getpwnam("postgres")
        except KeyError:
            run_as = pwd.getpwnam("nobody")
    root = Path(tempfile.mkdtemp(prefix="streamlab-pg-"))
    if run_as is not None:
        os.chown(root, run_as.pw_uid, run_as.pw_gid)
    cluster = PostgresCluster(bin_dir, root, _free_port(), run_as)
    try:
        cluster.start()
    except BaseException:
        shutil.rmtree(root, ignore_errors=True)
        raise
    return cluster
