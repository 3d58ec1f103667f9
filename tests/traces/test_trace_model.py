"""The Trace value and its error: validation, time-weighted statistics, one-line messages."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from traces.errors import TraceError
from traces.trace import Trace


def make(durations: list[float], kbps: list[float], latency: list[float] | None = None) -> Trace:
    lat = latency if latency is not None else [0.05] * len(durations)
    return Trace("t.json", "set", np.array(durations), np.array(kbps), np.array(lat), "x/t.json")


def test_error_message_is_path_line_reason() -> None:
    error = TraceError("negative bandwidth -3 kbps", "traces/x.json", 12)
    assert str(error) == "traces/x.json:12: negative bandwidth -3 kbps"
    assert (error.path, error.line, error.reason) == (
        "traces/x.json",
        12,
        "negative bandwidth -3 kbps",
    )
    assert isinstance(error, ValueError)
    assert str(TraceError("empty file", "a.log")) == "a.log: empty file"
    assert str(TraceError("no pieces")) == "no pieces"


def test_error_message_stays_on_one_line() -> None:
    assert str(TraceError("bad row 'a\nb'", "f.csv", 3)) == "f.csv:3: bad row 'a b'"


def test_error_survives_pickling_between_processes() -> None:
    error = pickle.loads(pickle.dumps(TraceError("zero duration", "f.csv", 4)))
    assert (error.reason, error.path, error.line) == ("zero duration", "f.csv", 4)
    assert str(error) == "f.csv:4: zero duration"


@pytest.mark.parametrize(
    ("durations", "kbps", "latency", "reason"),
    [
        ([1.0, 2.0], [100.0], [0.1, 0.1], "differ in length"),
        ([], [], [], "no pieces"),
        ([1.0, 1.0], [100.0, float("nan")], None, "piece 1: bandwidth is nan"),
        ([1.0, 1.0], [100.0, -3.0], None, "piece 1: negative bandwidth -3 kbps"),
        ([1.0, 0.0], [100.0, 100.0], None, "piece 1: duration is zero"),
        ([1.0], [100.0], [-0.5], "piece 0: negative latency -0.5 s"),
        ([1.0, 1.0], [0.0, 0.0], None, "bandwidth is zero throughout"),
    ],
)
def test_invalid_traces_are_refused(
    durations: list[float], kbps: list[float], latency: list[float] | None, reason: str
) -> None:
    with pytest.raises(TraceError, match=reason) as info:
        make(durations, kbps, latency)
    assert str(info.value).startswith("x/t.json: ")


def test_arrays_are_read_only_copies() -> None:
    kbps = np.array([100.0, 200.0])
    trace = Trace("t", "s", np.array([1.0, 1.0]), kbps, np.array([0.0, 0.0]))
    kbps[0] = 5.0
    assert trace.bandwidth_kbps[0] == 100.0 and trace.bandwidth_kbps.dtype == np.float64
    with pytest.raises(ValueError):
        trace.bandwidth_kbps[0] = 1.0


def test_statistics_are_weighted_by_time() -> None:
    trace = make([1.0, 3.0], [100.0, 200.0])
    assert trace.total_duration_s == 4.0
    assert trace.mean_bandwidth_kbps == 175.0
    assert trace.percentile_bandwidth_kbps(0) == 100.0
    assert trace.percentile_bandwidth_kbps(25) == 100.0  # 100 kbps a quarter of the time
    assert trace.percentile_bandwidth_kbps(26) == 200.0
    assert trace.percentile_bandwidth_kbps(100) == 200.0
    with pytest.raises(ValueError):
        trace.percentile_bandwidth_kbps(101)


def test_equality_compares_content_not_origin() -> None:
    a = make([1.0], [100.0])
    b = Trace(a.name, a.set_name, a.durations_s, a.bandwidth_kbps, a.latency_s, path=None)
    assert a == b
    assert a != make([1.0], [101.0])
