"""The researchers' Python API: the README's example runs, and the packages import light."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.formats import sabre_json

ROOT = Path(__file__).resolve().parents[2]


def run_python(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=120
    )


def test_the_example_simulates_two_algorithms_and_prints_their_qoe(tmp_path: Path) -> None:
    trace, video = tmp_path / "tunnel.json", tmp_path / "video.json"
    trace.write_text(sabre_json.dump(synthetic.tunnel()))
    video.write_text(json.dumps(synthetic_video(segments=30, seed=3)))
    done = run_python("examples/python_api.py", str(trace), str(video))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert [line.split(":")[0] for line in lines] == ["bola", "streamlab"]
    assert all("QoE_lin" in line and "rebuffer" in line for line in lines)


@pytest.mark.parametrize("package", ["abr", "simulator", "traces"])
def test_a_package_exports_what_it_lists_without_heavy_imports(package: str) -> None:
    # A fresh interpreter: what this test session imported already would hide a heavy import.
    probe = (
        f"import sys, {package}\n"
        f"missing = [n for n in {package}.__all__ if not hasattr({package}, n)]\n"
        "heavy = [m for m in ('matplotlib', 'pandas', 'dask', 'gymnasium') if m in sys.modules]\n"
        "print(missing, heavy)\n"
    )
    done = run_python("-c", probe)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[] []"


@pytest.mark.parametrize(
    "first", ["abr.session", "abr.manifests", "simulator.run", "traces.formats.sabre_json"]
)
def test_no_import_cycle_whichever_module_comes_first(first: str) -> None:
    done = run_python("-c", f"import {first}, abr, simulator, traces")
    assert done.returncode == 0, done.stderr
