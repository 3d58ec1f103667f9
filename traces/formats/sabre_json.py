"""Sabre's JSON: a list of {"duration_ms", "bandwidth_kbps", "latency_ms"} objects."""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from traces.errors import TraceError
from traces.trace import Trace, find_problem

KEYS = ("duration_ms", "bandwidth_kbps", "latency_ms")


def parse(text: str, *, name: str = "", set_name: str = "", path: str | None = None) -> Trace:
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"not JSON ({exc.msg})", path, exc.lineno) from None
    except RecursionError:
        raise TraceError("not a trace (JSON nested too deeply)", path, 1) from None
    except ValueError:  # int() refuses an integer of thousands of digits
        long = re.search(r"\d{1000,}", text)
        line = text.count("\n", 0, long.start()) + 1 if long else None
        raise TraceError("a number has too many digits to be a trace value", path, line) from None
    if not isinstance(data, list):
        raise TraceError(f"expected a JSON list of pieces, not {type(data).__name__}", path, 1)
    if not data:
        raise TraceError("no pieces (an empty JSON list)", path, 1)
    try:
        # One conversion for the whole file (fast for the 400-file sets); errors are rare,
        # so the walk that names the bad piece only runs when this fails.
        table = np.array([[piece[key] for key in KEYS] for piece in data], dtype=np.float64)
    except (TypeError, KeyError, ValueError, IndexError, OverflowError):
        raise _structure_error(text, data, path) from None
    durations_s, kbps, latency_s = table[:, 0] / 1000.0, table[:, 1], table[:, 2] / 1000.0
    problem = find_problem(durations_s, kbps, latency_s)
    if problem is not None:
        i, reason = problem
        raise TraceError(f"piece {i}: {reason}", path, _line_of_piece(text, i))
    return Trace(name, set_name, durations_s, kbps, latency_s, path, pieces_checked=True)


def dump(trace: Trace) -> str:
    """One piece per line (so errors point at it); floats keep the values exact."""
    pieces = [
        {"duration_ms": d * 1000.0, "bandwidth_kbps": b, "latency_ms": lat * 1000.0}
        for d, b, lat in zip(
            trace.durations_s.tolist(),
            trace.bandwidth_kbps.tolist(),
            trace.latency_s.tolist(),
            strict=True,
        )
    ]
    return "[\n" + ",\n".join("    " + json.dumps(p) for p in pieces) + "\n]\n"


def _structure_error(text: str, data: list[Any], path: str | None) -> TraceError:
    """Name the first piece that is not an object of three numbers."""
    for i, piece in enumerate(data):
        line = _line_of_piece(text, i)
        if not isinstance(piece, dict):
            return TraceError(f"piece {i} is not an object", path, line)
        for key in KEYS:
            value = piece.get(key)
            if value is None:
                return TraceError(f"piece {i}: {key} is missing", path, line)
            if isinstance(value, bool) or not isinstance(value, int | float | str):
                return TraceError(f"piece {i}: {key} is not a number: {value!r}", path, line)
            try:
                float(value)
            except ValueError:
                return TraceError(f"piece {i}: {key} is not a number: {value!r}", path, line)
            except OverflowError:  # an integer of hundreds of digits
                return TraceError(f"piece {i}: {key} is beyond any finite number", path, line)
    return TraceError("malformed pieces", path)


def _line_of_piece(text: str, index: int) -> int | None:
    """The line where the index-th object starts (pieces hold no nested objects)."""
    position = -1
    for _ in range(index + 1):
        position = text.find("{", position + 1)
        if position < 0:
            return None
    return text.count("\n", 0, position) + 1
