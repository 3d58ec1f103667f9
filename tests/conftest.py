"""Shared fixtures: the repo's ../shared data (skipped when absent) and small presentations."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from abr.manifests import parse_sabre_video
from abr.presentation import Presentation
from simulator.synthetic_video import synthetic_video
from streamlab.compiled import stale_compiled_modules

# Hypothesis checks behaviour, not speed: a per-example deadline fails on a loaded CI machine
# (speed targets live in `make bench`).
settings.register_profile("streamlab", deadline=None)
settings.load_profile("streamlab")

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Keep each folder of tests on one pytest-xdist worker (`--dist loadgroup`): a folder's
    session fixtures (a backend stack, a packaged catalog, live channels) then start once, not
    once per worker."""
    tests = Path(__file__).resolve().parent
    for item in items:
        relative = item.path.resolve().relative_to(tests)
        group = relative.parts[0] if len(relative.parts) > 1 else relative.stem
        item.add_marker(pytest.mark.xdist_group(group))


def pytest_sessionstart(session: pytest.Session) -> None:
    stale = stale_compiled_modules()
    if stale:
        raise pytest.UsageError(
            f"stale mypyc build shadows {stale}: run make compile or make clean-compiled"
        )


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (the dev data lives beside the repo)")
    return SHARED


@pytest.fixture(scope="session")
def video() -> Presentation:
    """A 10-rendition, 60-segment x 4 s VBR video."""
    return parse_sabre_video(synthetic_video(segments=60, seed=1), source="synthetic")


@pytest.fixture(scope="session")
def bbb(shared_dir: Path) -> Presentation:
    import json

    path = shared_dir / "videos" / "bbb.json"
    return parse_sabre_video(json.loads(path.read_text()), source=str(path))
