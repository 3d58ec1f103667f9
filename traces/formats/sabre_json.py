"""Sabre's JSON: a list of {"duration_ms", "bandwidth_kbps", "latency_ms"} objects."""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from traces.errors import TraceError
from traces.trace import Trace

KEYS = ("duration_ms", "bandwidth_kbps", "latency_ms")


def parse(text: str, *, name: str = "", set_name: str = "", path: str | None = None) -> Trace:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"not JSON ({exc.msg})", path, exc.lineno) from exc
    if not isinstance(data, list) or not data:
        raise TraceError("expected a non-empty JSON list of pieces", path)
    try:
        # The fast path: a well-formed file converts in one go; validation is vectorised.
        table = np.array([[p[key] for key in KEYS] for p in data], dtype=np.float64)
    except (TypeError, KeyError, ValueError):
        table = None
    if table is None or not _valid(table):
        _raise_first_problem(text, data, path)
    assert table is not None
    return Trace(
        name=name,
        set_name=set_name,
        durations_s=table[:, 0] / 1000.0,
        bandwidth_kbps=table[:, 1],
        latency_s=table[:, 2] / 1000.0,
        path=path,
    )


def _valid(table: np.ndarray) -> bool:
    return bool(np.isfinite(table).all() and (table >= 0).all() and (table[:, 0] > 0).all())


def _raise_first_problem(text: str, data: list[Any], path: str | None) -> None:
    """Walk the pieces in order to name the first bad one and its line."""
    for i, piece in enumerate(data):
        line = _line_of_piece(text, i)
        if not isinstance(piece, dict):
            raise TraceError(f"piece {i} is not an object", path, line)
        for key in KEYS:
            value = piece.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                found = "missing" if value is None else repr(value)
                raise TraceError(f"piece {i}: {key} is {found}", path, line)
            if value != value or value < 0 or (key == "duration_ms" and value == 0):
                raise TraceError(f"piece {i}: bad {key} {value!r}", path, line)
    raise TraceError("malformed pieces", path)


def dump(trace: Trace) -> str:
    pieces = [
        {
            "duration_ms": float(d) * 1000.0,
            "bandwidth_kbps": float(b),
            "latency_ms": float(lat) * 1000.0,
        }
        for d, b, lat in zip(trace.durations_s, trace.bandwidth_kbps, trace.latency_s, strict=True)
    ]
    return "[\n" + ",\n".join("    " + json.dumps(p) for p in pieces) + "\n]\n"


def _line_of_piece(text: str, index: int) -> int | None:
    """The line where the index-th object starts (pieces hold no nested objects)."""
    position = -1
    for _ in range(index + 1):
        position = text.find("{", position + 1)
        if position < 0:
            return None
    return text.count("\n", 0, position) + 1
