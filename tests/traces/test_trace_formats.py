"""Every format round-trips, is detected from its content, and reports bad input by file and line."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from traces.errors import TraceError
from traces.formats import bandwidth_log, csv_format, mahimahi, pensieve, sabre_json
from traces.load import detect_format, load_trace
from traces.trace import Trace

WRITERS: dict[str, Callable[[Trace], str]] = {
    "sabre": sabre_json.dump,
    "pensieve": pensieve.dump,
    "mahimahi": mahimahi.dump,
    "csv": csv_format.dump,
    "bandwidth-log": bandwidth_log.dump,
}
PACKET_KBITS = 1500 * 8 / 1000


@st.composite
def traces(draw: st.DrawFn, latency: bool = True, max_kbps: float = 100_000.0) -> Trace:
    n = draw(st.integers(1, 40))
    durations = draw(st.lists(st.floats(0.1, 30.0), min_size=n, max_size=n))
    kbps = draw(st.lists(st.floats(0.0, max_kbps), min_size=n, max_size=n))
    kbps[0] = max(kbps[0], 10.0)  # a trace must deliver something
    latency_s = (
        draw(st.lists(st.floats(0.0, 0.5), min_size=n, max_size=n)) if latency else [0.08] * n
    )
    return Trace("t", "set", np.array(durations), np.array(kbps), np.array(latency_s))


def assert_close(a: Trace, b: Trace) -> None:
    np.testing.assert_allclose(a.durations_s, b.durations_s, rtol=1e-9)
    np.testing.assert_allclose(a.bandwidth_kbps, b.bandwidth_kbps, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(a.latency_s, b.latency_s, rtol=1e-9, atol=1e-12)


# --- round trips -------------------------------------------------------------------------


@given(trace=traces())
def test_sabre_json_round_trips(trace: Trace) -> None:
    assert_close(sabre_json.parse(sabre_json.dump(trace)), trace)


@given(trace=traces())
def test_csv_round_trips(trace: Trace) -> None:
    assert_close(csv_format.parse(csv_format.dump(trace)), trace)


@given(trace=traces(latency=False))
def test_pensieve_round_trips_and_the_last_sample_lasts_the_median_gap(trace: Trace) -> None:
    again = pensieve.parse(pensieve.dump(trace))
    np.testing.assert_allclose(again.bandwidth_kbps, trace.bandwidth_kbps, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(again.durations_s[:-1], trace.durations_s[:-1], rtol=1e-6)
    gaps = trace.durations_s[:-1]
    expected_last = float(np.median(gaps)) if len(gaps) else 1.0
    assert again.durations_s[-1] == pytest.approx(expected_last, rel=1e-6)
    assert set(again.latency_s) == {0.08}


@settings(max_examples=40, deadline=None)
@given(trace=traces(latency=False, max_kbps=5_000.0))
def test_mahimahi_round_trip_keeps_volume_and_mean_bandwidth(trace: Trace) -> None:
    again = mahimahi.parse(mahimahi.dump(trace))
    sent = float(np.sum(trace.durations_s * trace.bandwidth_kbps))
    received = float(np.sum(again.durations_s * again.bandwidth_kbps))
    # Rounded to whole packets once, but the period line is a delivery even for < 1 packet.
    assert abs(received - sent) <= max(PACKET_KBITS / 2, PACKET_KBITS - sent) + 1e-6
    assert abs(again.total_duration_s - trace.total_duration_s) <= 0.0005  # whole milliseconds
    # Mean bandwidth: off by at most a packet and half a millisecond over the trace.
    slack = (PACKET_KBITS + trace.mean_bandwidth_kbps * 0.0005) / again.total_duration_s
    assert abs(again.mean_bandwidth_kbps - trace.mean_bandwidth_kbps) <= slack + 1e-6
    assert np.all(again.durations_s <= 0.1 + 1e-12)  # 100 ms bins


def test_mahimahi_bins_packets_into_100ms_pieces() -> None:
    # Period 200 ms; the delivery at 200 ms is the next repetition's 0 ms.
    trace = mahimahi.parse("0\n0\n50\n150\n200\n")
    assert list(trace.durations_s) == [0.1, 0.1]
    assert list(trace.bandwidth_kbps) == [4 * 1500 * 8 / 0.1 / 1000, 1 * 1500 * 8 / 0.1 / 1000]


def test_mahimahi_short_period_is_one_partial_bin() -> None:
    trace = mahimahi.parse("10\n20\n50\n")  # three packets every 50 ms
    assert list(trace.durations_s) == [0.05]
    assert trace.mean_bandwidth_kbps == pytest.approx(3 * 12_000 / 50)


def test_formats_without_latency_use_the_default_or_the_given_one() -> None:
    assert set(pensieve.parse("0 1\n1 2\n").latency_s) == {0.08}
    assert set(pensieve.parse("0 1\n1 2\n", default_latency_s=0.2).latency_s) == {0.2}
    assert set(mahimahi.parse("5\n100\n", default_latency_s=0.01).latency_s) == {0.01}
    assert set(csv_format.parse("duration_s,bandwidth_kbps\n1,5\n").latency_s) == {0.08}


@given(trace=traces(latency=False))
def test_bandwidth_log_round_trips(trace: Trace) -> None:
    assert_close(bandwidth_log.parse(bandwidth_log.dump(trace), name="t", set_name="set"), trace)


def test_bandwidth_logs_of_riiser_and_van_der_hooft_load_as_published() -> None:
    # The examples on the datasets' pages: Norway 3G (Riiser et al.) and Ghent 4G (van der
    # Hooft et al., whose elapsed ms keep a leading zero).
    norway = (
        "1289406399 549692 59.851754 10.781778 248069 1008\n"
        "1289406400 550772 59.851864 10.781833 191698 1080\n"
    )
    ghent = (
        "1453121791687 40288 51.03865 3.73222 2763504 1001\n"
        "1453121792686 41287 51.03865 3.73225 2728896 0999\n"
    )
    assert detect_format(norway) == detect_format(ghent) == "bandwidth-log"
    three_g = bandwidth_log.parse(norway)
    np.testing.assert_allclose(three_g.durations_s, [1.008, 1.080])
    np.testing.assert_allclose(three_g.bandwidth_kbps, [248069 * 8 / 1008, 191698 * 8 / 1080])
    four_g = bandwidth_log.parse(ghent)
    np.testing.assert_allclose(four_g.bandwidth_kbps, [2763504 * 8 / 1001, 2728896 * 8 / 999])
    assert set(four_g.latency_s) == {0.08}


def test_csv_takes_sample_times_instead_of_durations() -> None:
    # Raca et al.'s 4G/5G datasets: one row per second (with gaps), DL_bitrate in kbit/s.
    raca = (
        "Timestamp,Longitude,Latitude,Speed,Operatorname,CellID,NetworkMode,RSRP,DL_bitrate\n"
        "2019.12.16_11.37.32,-8.4,51.9,0,A,5,5G,-90,5300\n"
        "2019.12.16_11.37.33,-8.4,51.9,0,A,5,5G,-,0\n"
        "2019.12.16_11.37.36,-8.4,51.9,0,A,5,5G,-91,12000\n"
    )
    trace = csv_format.parse(raca)
    np.testing.assert_allclose(trace.durations_s, [1.0, 3.0, 2.0])  # the last: the median gap
    np.testing.assert_allclose(trace.bandwidth_kbps, [5300.0, 0.0, 12000.0])
    iso = csv_format.parse(
        "timestamp,throughput_mbps\n2024-05-01T10:00:00,2\n2024-05-01T10:00:00.5,4\n"
    )
    np.testing.assert_allclose(iso.durations_s, [0.5, 0.5])
    np.testing.assert_allclose(iso.bandwidth_kbps, [2000.0, 4000.0])
    millis = csv_format.parse("time_ms,throughput_kbps\n100,7\n350,8\n")
    np.testing.assert_allclose(millis.durations_s, [0.25, 0.25])
    epoch_ms = csv_format.parse("timestamp,dl_bitrate\n1453121791687,5\n1453121792686,6\n")
    np.testing.assert_allclose(epoch_ms.durations_s, [0.999, 0.999])


def test_csv_rows_logged_in_the_same_second_are_one_sample() -> None:
    trace = csv_format.parse(
        "Timestamp,DL_bitrate\n"
        "2019.12.16_11.37.32,1000\n2019.12.16_11.37.32,3000\n2019.12.16_11.37.33,500\n"
    )
    np.testing.assert_allclose(trace.durations_s, [1.0, 1.0])
    np.testing.assert_allclose(trace.bandwidth_kbps, [2000.0, 500.0])


def test_csv_accepts_either_unit_and_ignores_other_columns() -> None:
    trace = csv_format.parse("note,Duration_ms,bandwidth_mbps,latency_ms\nx,500,2.5,30\n")
    assert (trace.durations_s[0], trace.bandwidth_kbps[0]) == (0.5, 2500.0)
    assert trace.latency_s[0] == pytest.approx(0.03)


# --- detection -----------------------------------------------------------------------------


SAMPLE = Trace("t", "x", np.array([1.0, 1.0]), np.array([1200.0, 2400.0]), np.array([0.08, 0.08]))


@pytest.mark.parametrize("kind", sorted(WRITERS))
def test_each_format_is_detected_and_loads(tmp_path: Path, kind: str) -> None:
    path = tmp_path / f"trace-{kind}"
    path.write_text(WRITERS[kind](SAMPLE))
    assert detect_format(path.read_text(), str(path)) == kind
    loaded = load_trace(path)
    assert loaded.name == path.name and loaded.set_name == tmp_path.name
    assert loaded.path == str(path)
    assert loaded.mean_bandwidth_kbps == pytest.approx(SAMPLE.mean_bandwidth_kbps, rel=0.05)
    assert load_trace(path, format=kind) == loaded  # the override agrees with detection


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("0.0\t2.29\n1.01\t1.35\n", "pensieve"),
        ("\n\n0 2\r\n1 3\r\n", "pensieve"),
        ("0\n0\n7\n", "mahimahi"),
        ("1289406399 549692 59.85 10.78 248069 1008\n", "bandwidth-log"),
        ("\ufeffduration_ms,bandwidth_kbps\n1000,5\n", "csv"),
        ('  [{"duration_ms": 1}]', "sabre"),
    ],
)
def test_detection_from_content(text: str, kind: str) -> None:
    assert detect_format(text) == kind


def test_format_override_beats_detection(tmp_path: Path) -> None:
    path = tmp_path / "two-columns.txt"
    path.write_text("0 1\n1 2\n")
    assert load_trace(path).set_name == tmp_path.name  # detected as pensieve
    with pytest.raises(TraceError, match="expected one integer millisecond"):
        load_trace(path, format="mahimahi")
    with pytest.raises(TraceError, match="unknown format 'excel'"):
        load_trace(path, format="excel")


def test_set_name_can_be_given(tmp_path: Path) -> None:
    path = tmp_path / "t.log"
    path.write_text("0 1\n1 2\n")
    assert load_trace(path, set_name="mine").set_name == "mine"


# --- bad input -----------------------------------------------------------------------------

SABRE_ROW = '{{"duration_ms": {d}, "bandwidth_kbps": {b}, "latency_ms": {lat}}}'


def sabre(*rows: tuple[object, object, object]) -> str:
    body = ",\n".join(SABRE_ROW.format(d=d, b=b, lat=lat) for d, b, lat in rows)
    return f"[\n{body}\n]\n"


BAD_INPUT = [
    # (file name, content, line, reason)
    ("empty.json", "", 1, "empty file"),
    ("blank.log", "\n  \n\n", 1, "empty file"),
    ("garbage.txt", "hello world this is not a trace\n", 1, "unknown trace format"),
    ("late-garbage.txt", "\n\nhello\n", 3, "unknown trace format"),
    ("nan.log", "0 1.0\n1 nan\n", 2, "bandwidth is nan"),
    ("negative.log", "0 1.0\n1 -3\n", 2, "negative bandwidth -3000 kbps"),
    ("backwards.log", "0 1\n2 1\n1 1\n", 3, "does not increase"),
    ("repeated.log", "0 1\n0 1\n", 2, "does not increase"),
    ("words.log", "0 1\n1 fast\n", 2, "not a number: 'fast'"),
    ("three.log", "0 1\n1 2 3\n", 2, "expected 'time_s bandwidth_Mbps'"),
    ("zero.log", "0 0\n1 0\n", None, "bandwidth is zero throughout"),
    ("negative.json", sabre((1000, 5, 1), (1000, -5, 1)), 3, "piece 1: negative bandwidth -5"),
    ("nan.json", sabre((1000, 5, 1), (1000, "NaN", 1)), 3, "piece 1: bandwidth is nan"),
    ("inf.json", sabre((1000, "Infinity", 1)), 2, "piece 0: bandwidth is inf"),
    ("zero.json", sabre((1000, 5, 1), (0, 5, 1)), 3, "piece 1: duration is zero"),
    ("text.json", sabre((1000, 5, 1), (1000, '"fast"', 1)), 3, "bandwidth_kbps is not a number"),
    (
        "missing.json",
        '[\n{"duration_ms": 1000, "bandwidth_kbps": 5}\n]',
        2,
        "latency_ms is missing",
    ),
    ("broken.json", '[{"duration_ms": 1000,\n', 2, "not JSON"),
    ("object.json", '{"duration_ms": 1000}', 1, "expected a JSON list of pieces, not dict"),
    ("nothing.json", "[]", 1, "no pieces"),
    (
        "columns.csv",
        "when,speed\n1,2\n",
        1,
        "missing column duration_s or duration_ms (or a time: time_s, time_ms, timestamp) and "
        "bandwidth_kbps or bandwidth_mbps or throughput_kbps or throughput_mbps or dl_bitrate; "
        "found when, speed",
    ),
    (
        "no-rate.csv",
        "duration_ms,throughput\n1,2\n",
        1,
        "missing column bandwidth_kbps or bandwidth_mbps or throughput_kbps or throughput_mbps "
        "or dl_bitrate; found duration_ms, throughput",
    ),
    ("zero.csv", "duration_s,bandwidth_kbps\n1,5\n0,5\n", 3, "duration is zero"),
    ("negative.csv", "duration_s,bandwidth_kbps\n1,-3\n", 2, "negative bandwidth -3 kbps"),
    ("nan.csv", "duration_s,bandwidth_kbps\n1,5\n\n1,nan\n", 4, "bandwidth is nan"),
    ("cell.csv", "duration_s,bandwidth_kbps\n1,fast\n", 2, "bad row '1,fast'"),
    ("short.csv", "duration_s,bandwidth_kbps\n1\n", 2, "bad row '1'"),
    ("header-only.csv", "duration_s,bandwidth_kbps\n", 2, "no rows after the header"),
    ("back.csv", "time_s,bandwidth_kbps\n0,5\n2,5\n1,5\n", 4, "time 1 does not increase"),
    (
        "stamp.csv",
        "timestamp,dl_bitrate\n2019.12.16_11.37.32,5\nnoon,5\n",
        3,
        "not a timestamp: 'noon'",
    ),
    (
        "zones.csv",
        "timestamp,dl_bitrate\n2024-05-01T10:00:00+02:00,5\n2024-05-01T09:00:01,5\n",
        3,
        "timestamp '2024-05-01T09:00:01' is a date without a time zone, the first row's is a "
        "date with a time zone",
    ),
    ("kinds.csv", "timestamp,dl_bitrate\n20240501,5\n2024-05-02,5\n", 3, "is a date without"),
    ("ms-back.csv", "time_ms,bandwidth_kbps\n100,5\n350,5\n200,5\n", 4, "time 200 does not"),
    ("five.log", "1 2 3 4 5 6\n1 2 3 4 5\n", 2, "expected 6 columns"),
    ("instant.log", "1 2 3 4 5 6\n1 2 3 4 500 0\n", 2, "duration is zero (500 bytes in 0 ms)"),
    ("minus.log", "1 2 3 4 -5 6\n", 1, "negative bandwidth"),
    ("word.log", "1 2 3 4 5 6\n1 2 3 4 many 6\n", 2, "not a number: 'many'"),
    ("north.log", "1 2 3 4 5 6\n1 2 N59.8 4 5 6\n", 2, "not a number: 'N59.8'"),
    ("huge.log", "1 2 3 4 5 6\n1 2 3 4 1e308 1\n", 2, "bandwidth is inf"),
    ("packets.down", "0\n5\nxyz\n", 3, "expected one integer millisecond, got 'xyz'"),
    ("float.down", "0\n5\n7.5\n", 3, "expected one integer millisecond, got '7.5'"),
    ("two.down", "0\n5 6\n7\n", 2, "expected one integer millisecond, got '5 6'"),
    ("back.down", "0\n\n5\n3\n", 4, "timestamp 3 goes back"),
    ("instant.down", "0\n0\n", 2, "lasts 0 ms"),
    # Numbers beyond any link (issue 14): overflow on conversion, or in the simulator's sums.
    (
        "digits.json",
        sabre(("1" + "0" * 400, 5, 1)),
        2,
        "piece 0: duration_ms is beyond any finite number",
    ),
    ("limit.json", sabre((1000, "9" * 5000, 1)), 2, "too many digits to be a trace value"),
    ("fast.json", sabre((1000, 1e300, 1)), 2, "bandwidth 1e+300 kbps is above the 1e+09"),
    ("slow.json", sabre((1000, 1e-300, 1)), None, "delivers 1e-300 kbit: under the 1 kbit"),
    ("lag.json", sabre((1000, 5, 1e9)), 2, "latency 1e+06 s is above the 3600 s allowed"),
    ("deep.json", "[" * 100_000 + "]" * 100_000, 1, "JSON nested too deeply"),
    ("long.log", "0 1\n1e9 1\n", 1, "duration 1e+09 s is above the 1e+07 s allowed"),
    ("forever.down", "0\n9223372036854775807\n", 2, "lasts 9223372036854775807 ms: more than"),
    ("wide.csv", "duration_s,bandwidth_kbps\n1," + "9" * 200_000 + "\n", 2, "field larger than"),
]


@pytest.mark.parametrize(("name", "text", "line", "reason"), BAD_INPUT)
def test_bad_input_names_file_and_line(
    tmp_path: Path, name: str, text: str, line: int | None, reason: str
) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(TraceError) as info:
        load_trace(path)
    error = info.value
    assert reason in error.reason
    assert (error.path, error.line) == (str(path), line)
    where = f"{path}:{line}: " if line else f"{path}: "
    assert str(error) == where + error.reason and "\n" not in str(error)


def test_undecodable_bytes_name_their_line(tmp_path: Path) -> None:
    path = tmp_path / "binary.log"
    path.write_bytes(b"0 1\n1 \xff\xfe\n")
    with pytest.raises(TraceError, match="not UTF-8") as info:
        load_trace(path)
    assert str(info.value).startswith(f"{path}:2: ")


def test_missing_file_and_folder_are_named(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file") as info:
        load_trace(tmp_path / "nope.json")
    assert info.value.path == str(tmp_path / "nope.json")
    with pytest.raises(TraceError, match="is a folder"):
        load_trace(tmp_path)
