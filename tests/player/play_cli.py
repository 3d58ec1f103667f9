"""`streamlab play` as a user runs it, from the tests: a subprocess in the repository."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def play_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamlab.cli", "play", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )


def play_headless(url: str) -> dict[str, Any]:
    """`play URL --headless --json --abr throughput` (libmpv decoding): its JSON result."""
    done = play_cli(url, "--headless", "--json", "--abr", "throughput")
    assert done.returncode == 0, done.stderr
    result: dict[str, Any] = json.loads(done.stdout)
    return result
