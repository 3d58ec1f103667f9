"""The session's contract values (abr.values.Value): what drivers and algorithms rely on."""

from __future__ import annotations

from pathlib import Path

import pytest
from mypy import api as mypy_api

from abr.commands import StallEnded, StartPlayback
from abr.context import Decision
from abr.events import Pause, Resume, SegmentDone

REPO = Path(__file__).resolve().parents[2]


def test_values_of_different_kinds_are_never_equal() -> None:
    assert Pause(1.0) == Pause(1.0) and hash(Pause(1.0)) == hash(Pause(1.0))
    assert Pause(1.0) != Resume(1.0)
    # Same fields, different meaning: a test expecting one must not pass on the other.
    assert StartPlayback(2.0, 0.0) != StallEnded(2.0, 0.0)
    assert Decision(2) != Decision(2, reason="cap")


def test_replace_copies_with_the_named_fields_changed() -> None:
    done = SegmentDone(1.0, 7, 1000.0, 0.5)
    later = done.replace(now=2.0)
    assert (later.now, later.request_id, later.received_bytes, later.first_byte_at) == (
        2.0,
        7,
        1000.0,
        0.5,
    )
    assert done.now == 1.0
    with pytest.raises(TypeError, match="no field 'when'"):
        done.replace(when=2.0)
    assert (
        repr(later)
        == "SegmentDone(now=2.0, request_id=7, received_bytes=1000.0, first_byte_at=0.5, "
        "transfer_s=None)"
    )


def test_a_value_takes_no_new_attributes() -> None:
    with pytest.raises(AttributeError):
        Pause(1.0).reason = "user"  # type: ignore[attr-defined]


def test_mypy_refuses_changing_a_field(tmp_path: Path) -> None:
    snippet = tmp_path / "driver.py"
    snippet.write_text("from abr.events import Pause\n\nPause(1.0).now = 2.0\n")
    out, _, status = mypy_api.run([str(snippet), "--follow-imports=silent", "--no-error-summary"])
    assert status == 1 and 'Cannot assign to final attribute "now"' in out, out
