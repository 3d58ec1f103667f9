"""Helpers shared by the QA harness tests (imported by name: tests/harness is on the path)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from streamlab.cli import main

CLIP_SECONDS = "12"  # 6 segments: 4 fill the buffer, 2 follow while playing
MAX_HEIGHT = "360"


@dataclass
class QaRun:
    code: int
    out: Path
    stderr: str


def write_trace(folder: Path, name: str, kbps: float, latency_ms: float = 20) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    piece = {"duration_ms": 1000, "bandwidth_kbps": kbps, "latency_ms": latency_ms}
    path.write_text(json.dumps([piece] * 30))
    return path


def run_qa(capsys: pytest.CaptureFixture[str], out: Path, *args: str) -> QaRun:
    code = main(["qa", "--out", str(out), "--quiet", *args])
    return QaRun(code, out, capsys.readouterr().err)
