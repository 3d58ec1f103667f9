"""A folder served by a real nginx on 127.0.0.1, as a CDN would serve it (byte ranges, files
that change while it runs): for manifests and media other tools made."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from backend_stub.edge.nginx import nginx_binary
from backend_stub.errors import ConfigError

_CONF = """
{user}
worker_processes 1;
pid {root}/nginx.pid;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {root}/tmp;
    proxy_temp_path {root}/tmp;
    fastcgi_temp_path {root}/tmp;
    uwsgi_temp_path {root}/tmp;
    scgi_temp_path {root}/tmp;
    types {{
        application/dash+xml mpd; application/vnd.apple.mpegurl m3u8;
        video/mp4 mp4 m4s; video/mp2t ts;
    }}
    server {{
        listen 127.0.0.1:{port};
        root {media};
        # Live manifests change every segment: never let a client keep an old one.
        location ~ \\.(mpd|m3u8)$ {{ add_header Cache-Control no-store; }}
    }}
}}
"""


@contextmanager
def static_site(media: Path, workdir: Path) -> Iterator[str]:
    """nginx serving `media` (its config, pid and logs in `workdir`): yields its base URL.
    Skips the test when nginx is not installed."""
    try:
        nginx = nginx_binary()
    except ConfigError:
        pytest.skip("nginx is not installed (make test installs it)")
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    conf = workdir / "nginx.conf"
    # Run as root, nginx drops its workers to `nobody`, who cannot read pytest's private folders.
    user = "user root;" if os.geteuid() == 0 else ""
    conf.write_text(_CONF.format(user=user, root=workdir, port=port, media=media))
    log = workdir / "error.log"
    process = subprocess.Popen(
        [nginx, "-p", str(workdir), "-c", str(conf), "-e", str(log), "-g", "daemon off;"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"nginx did not start: {log.read_text() if log.exists() else ''}")
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(10)
