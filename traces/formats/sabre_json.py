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
    columns: dict[str, list[float]] = {key: [] for key in KEYS}
    for i, piece in enumerate(data):
        if not isinstance(piece, dict):
            raise TraceError(f"piece {i} is not an object", path, _line_of_piece(text, i))
        for key in KEYS:
            value = piece.get(key)
            if isinstance(value, bool) or not isinstance(value, int | float):
                found = "missing" if value is None else repr(value)
                raise TraceError(f"piece {i}: {key} is {found}", path, _line_of_piece(text, i))
            if value != value or value < 0 or (key == "duration_ms" and value == 0):
                raise TraceError(f"piece {i}: bad {key} {value!r}", path, _line_of_piece(text, i))
            columns[key].append(float(value))
    return Trace(
        name=name,
        set_name=set_name,
        durations_s=np.asarray(columns["duration_ms"]) / 1000.0,
        bandwidth_kbps=np.asarray(columns["bandwidth_kbps"]),
        latency_s=np.asarray(columns["latency_ms"]) / 1000.0,
        path=path,
    )


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
