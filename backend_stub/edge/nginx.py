"""Start and stop our own nginx (never the system service): `nginx -p DIR -c conf`."""

from __future__ import annotations

import shutil
import signal
import subprocess
from pathlib import Path

from backend_stub.edge.nginx_conf import TierPaths
from backend_stub.errors import ConfigError


def nginx_binary() -> str:
    for candidate in (shutil.which("nginx"), "/usr/sbin/nginx"):
        if candidate and Path(candidate).exists():
            return candidate
    raise ConfigError("nginx is not installed (run scripts/install-system-deps.sh)")


class NginxProcess:
    def __init__(self, name: str, paths: TierPaths, conf_text: str) -> None:
        self.name = name
        self.paths = paths
        self.conf_text = conf_text
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.paths.prepare()
        self.paths.conf.write_text(self.conf_text)
        binary = nginx_binary()
        base = [
            binary,
            "-p",
            str(self.paths.root),
            "-c",
            str(self.paths.conf),
            "-e",
            str(self.paths.error_log),
        ]
        test = subprocess.run([*base, "-t", "-q"], capture_output=True, text=True)
        if test.returncode != 0:
            raise ConfigError(
                f"{self.name} nginx config {self.paths.conf} is invalid: {test.stderr.strip()}"
            )
        log = self.paths.error_log.open("ab")
        self.proc = subprocess.Popen(
            [*base, "-g", "daemon off;"],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        log.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        # SIGQUIT = graceful: finish in-flight responses, then exit.
        self.proc.send_signal(signal.SIGQUIT)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(2)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
