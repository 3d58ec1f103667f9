"""Every trace format loads, detects, round-trips, and reports bad input by file and line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traces.errors import TraceError
from traces.formats import csv_format, mahimahi, pensieve, sabre_json
from traces.load import detect_format, load_trace
from traces.trace import Trace

EXTENSIONS = {"sabre": "json", "pensieve": "log", "mahimahi": "down", "csv": "csv"}
WRITERS = {
    "sabre": sabre_json.dump,
    "pensieve": pensieve.dump,
    "mahimahi": mahimahi.dump,
    "csv": csv_format.dump,
}


@st.composite
def traces(draw: st.DrawFn, latency: bool = True, max_kbps: float = 100_000.0) -> Trace:
    n = draw(st.integers(1, 40))
    durations = draw(st.lists(st.floats(0.1, 30.0), min_size=n, max_size=n))
    kbps = draw(st.lists(st.floats(0.0, max_kbps), min_size=n, max_size=n))
    kbps[0] = max(kbps[0], 10.0)
    latency_s = (
        draw(st.lists(st.floats(0.0, 0.5), min_size=n, max_size=n)) if latency else [0.08] * n
    )
    return Trace("t", "set", np.array(durations), np.array(kbps), np.array(latency_s))


@given(trace=traces())
def test_sabre_json_and_csv_round_trip_exactly(trace: Trace) -> None:
    for module in (sabre_json, csv_format):
        again = module.parse(module.dump(trace), name="t", set_name="set")
        assert np.allclose(again.durations_s, trace.durations_s)
        assert np.allclose(again.bandwidth_kbps, trace.bandwidth_kbps)
        assert np.allclose(again.latency_s, trace.latency_s)


@given(trace=traces(latency=False))
def test_pensieve_round_trips_but_for_the_last_piece(trace: Trace) -> None:
    again = pensieve.parse(pensieve.dump(trace))
    assert np.allclose(again.bandwidth_kbps, trace.bandwidth_kbps)
    assert np.allclose(
        again.durations_s[:-1], trace.durations_s[:-1]
    )  # the last lasts the median gap


@settings(max_examples=40, deadline=None)
@given(trace=traces(latency=False, max_kbps=5_000.0))
def test_mahimahi_round_trip_keeps_the_volume(trace: Trace) -> None:
    again = mahimahi.parse(mahimahi.dump(trace))
    sent = float(np.sum(trace.durations_s * trace.bandwidth_kbps))
    received = float(np.sum(again.durations_s * again.bandwidth_kbps))
    packet_kbits = 12.0  # one 1500-byte packet of rounding per piece, at most
    assert received == pytest.approx(sent, abs=packet_kbits * (len(trace.durations_s) + 2))
    assert again.total_duration_s == pytest.approx(
        trace.total_duration_s, abs=0.002 * len(trace.durations_s) + 0.002
    )


@pytest.mark.parametrize("kind", sorted(EXTENSIONS))
def test_detection_and_override(tmp_path: Path, kind: str) -> None:
    trace = Trace(
        "t", "x", np.array([1.0, 1.0]), np.array([1200.0, 2400.0]), np.array([0.08, 0.08])
    )
    path = tmp_path / f"trace.{EXTENSIONS[kind]}"
    path.write_text(WRITERS[kind](trace))
    assert detect_format(path.read_text()) == kind
    loaded = load_trace(path, format=kind)
    assert loaded.name == path.name and loaded.set_name == tmp_path.name
    assert loaded.mean_bandwidth_kbps == pytest.approx(trace.mean_bandwidth_kbps, rel=0.05)


@pytest.mark.parametrize(
    ("name", "text", "line", "reason"),
    [
        ("empty.json", "", None, "empty file"),
        ("nan.log", "0 1.0\n1 nan\n", 2, "bad bandwidth"),
        (
            "negative.json",
            '[\n{"duration_ms": 1000, "bandwidth_kbps": 5, "latency_ms": 1},\n'
            '{"duration_ms": 1000, "bandwidth_kbps": -5, "latency_ms": 1}\n]',
            3,
            "bandwidth_kbps",
        ),
        (
            "zero.json",
            '[{"duration_ms": 0, "bandwidth_kbps": 5, "latency_ms": 1}]',
            1,
            "duration_ms",
        ),
        ("columns.csv", "when,speed\n1,2\n", 1, "need a duration column"),
        ("garbage.txt", "hello world this is not a trace\n", 1, "unknown trace format"),
        ("backwards.log", "0 1\n2 1\n1 1\n", 3, "does not increase"),
        ("broken.json", '[{"duration_ms": 1000,\n', 2, "not JSON"),
        ("packets.down", "0\n5\nxyz\n", 3, "integer millisecond"),
    ],
)
def test_bad_input_names_file_and_line(
    tmp_path: Path, name: str, text: str, line: int | None, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TraceError, match=reason) as info:
        load_trace(path)
    where = f"{path}:{line}:" if line else f"{path}:"
    assert str(info.value).startswith(where)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file"):
        load_trace(tmp_path / "nope.json")
