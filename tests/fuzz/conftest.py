"""The fuzz suite's recorder: one per pytest session, written out for `make fuzz`."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fuzz.harness import FuzzRecorder

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    # Everything in this folder is a fuzz target: `make fuzz` selects them with `-m fuzz`.
    # A numeric RuntimeWarning (overflow, invalid value) is a crash in waiting: it fails the case.
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.fuzz)
            item.add_marker(pytest.mark.filterwarnings("error::RuntimeWarning"))


@pytest.fixture(scope="session")
def fuzz() -> Iterator[FuzzRecorder]:
    recorder = FuzzRecorder()
    yield recorder
    out = os.environ.get("STREAMLAB_FUZZ_STATS")
    if out:
        recorder.write(Path(out))
