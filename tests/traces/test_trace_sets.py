"""Folders of traces, synthetic sets, per-set statistics and the `traces stats` command."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pytest

from streamlab.commands import traces as traces_command
from traces import synthetic
from traces.errors import TraceError
from traces.formats import csv_format, sabre_json
from traces.load import iter_trace_files, load_traces
from traces.stats import render_stats_table, trace_set_stats
from traces.trace import Trace

# --- folders -------------------------------------------------------------------------------


def test_folders_expand_to_their_trace_files_by_name(tmp_path: Path) -> None:
    for name in ("b.json", "a.json", "README.md", "LICENSE", "SABRE-LICENSE", ".hidden.json"):
        (tmp_path / name).write_text(sabre_json.dump(synthetic.constant(1000)))
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "c.json").write_text(sabre_json.dump(synthetic.constant(1000)))
    extra = tmp_path / "nested" / "c.json"
    assert iter_trace_files([tmp_path, extra]) == [tmp_path / "a.json", tmp_path / "b.json", extra]


def test_a_missing_path_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(TraceError, match="no such file or folder") as info:
        iter_trace_files([tmp_path, tmp_path / "gone"])
    assert info.value.path == str(tmp_path / "gone")


def test_load_traces_names_sets_by_folder(tmp_path: Path) -> None:
    for folder in ("fast", "slow"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.csv").write_text(csv_format.dump(synthetic.constant(500)))
    loaded = load_traces([tmp_path / "fast", tmp_path / "slow"])
    assert [(t.set_name, t.name) for t in loaded] == [("fast", "t.csv"), ("slow", "t.csv")]


# --- synthetic -----------------------------------------------------------------------------


def test_markov_is_determined_by_its_seed() -> None:
    a = synthetic.markov(6000, 500, 0.1, 0.3, seed=4)
    again = synthetic.markov(6000, 500, 0.1, 0.3, seed=4)
    other = synthetic.markov(6000, 500, 0.1, 0.3, seed=5)
    assert np.array_equal(a.bandwidth_kbps, again.bandwidth_kbps) and a == again
    assert not np.array_equal(a.bandwidth_kbps, other.bandwidth_kbps)
    assert a.bandwidth_kbps.min() < 1500 < 3000 < a.bandwidth_kbps.max()  # both states occur
    assert a.set_name == "synthetic" and a.total_duration_s == pytest.approx(600)


def test_markov_keeps_the_stationary_mean() -> None:
    long = synthetic.markov(6000, 500, 0.1, 0.3, seed=1, duration_s=50_000, jitter=0.3)
    good_share = 0.3 / (0.1 + 0.3)
    assert long.mean_bandwidth_kbps == pytest.approx(
        good_share * 6000 + (1 - good_share) * 500, rel=0.05
    )


def test_markov_ends_on_time_when_pieces_do_not_divide() -> None:
    trace = synthetic.markov(6000, 500, 0.1, 0.3, seed=0, piece_s=0.7, duration_s=10)
    assert trace.total_duration_s == pytest.approx(10) and len(trace.durations_s) == 15


def test_the_tunnel_drops_to_one_megabit_for_twenty_seconds() -> None:
    tunnel = synthetic.tunnel()
    assert tunnel.name == "tunnel-50M-1M-20s"
    assert list(tunnel.durations_s) == [60, 20, 520]
    assert list(tunnel.bandwidth_kbps) == [50_000, 1_000, 50_000]
    assert tunnel.total_duration_s == 600


def test_step_and_constant_have_their_shapes() -> None:
    down = synthetic.step(6000, 1200, at_s=120)
    assert list(down.durations_s) == [120, 480] and list(down.bandwidth_kbps) == [6000, 1200]
    flat = synthetic.constant(3000, duration_s=90, latency_s=0.01)
    assert flat.mean_bandwidth_kbps == 3000 and flat.total_duration_s == 90
    assert set(flat.latency_s) == {0.01}
    with pytest.raises(ValueError, match="inside the trace"):
        synthetic.step(6000, 1200, at_s=700)
    with pytest.raises(ValueError, match="inside the trace"):
        synthetic.tunnel(start_s=590)


def test_builtin_set_is_small_varied_readable_and_seeded() -> None:
    traces = synthetic.builtin_set()
    names = [t.name for t in traces]
    assert 6 <= len(names) == len(set(names)) <= 12
    assert "tunnel-50M-1M-20s" in names
    assert {n.split("-")[0] for n in names} == {"constant", "step", "markov", "tunnel"}
    assert {t.set_name for t in traces} == {"synthetic"}
    assert synthetic.builtin_set(seed=3) == synthetic.builtin_set(seed=3)
    assert synthetic.builtin_set(seed=3) != synthetic.builtin_set(seed=4)


# --- statistics ----------------------------------------------------------------------------


def trace(set_name: str, durations: list[float], kbps: list[float]) -> Trace:
    return Trace("t", set_name, np.array(durations), np.array(kbps), np.zeros(len(durations)))


def test_stats_has_one_time_weighted_row_per_set() -> None:
    df = trace_set_stats(
        [
            trace("b", [10.0], [1000.0]),
            trace("a", [1.0, 9.0], [100.0, 1000.0]),
            trace("a", [10.0], [2000.0]),
        ]
    )
    assert list(df.columns) == [
        "set",
        "count",
        "duration_s_mean",
        "bw_mean_kbps",
        "bw_p10_kbps",
        "bw_p90_kbps",
    ]
    a = df.set_index("set").loc["a"]
    assert a["count"] == 2 and a["duration_s_mean"] == 10.0
    assert a["bw_mean_kbps"] == pytest.approx((100 + 9000 + 20000) / 20)
    assert (a["bw_p10_kbps"], a["bw_p90_kbps"]) == (1000.0, 2000.0)  # 100 kbps only 5 % of the time
    assert list(df["set"]) == ["a", "b"]
    assert render_stats_table(df).row_count == 2


def test_stats_of_nothing_is_an_empty_table() -> None:
    df = trace_set_stats([])
    assert df.empty and "bw_mean_kbps" in df.columns
    assert render_stats_table(df).row_count == 0


# --- the command ---------------------------------------------------------------------------


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="streamlab")
    traces_command.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


def test_stats_command_prints_a_row_per_set(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for folder, trace in (("steady", synthetic.constant(1000)), ("tunnel", synthetic.tunnel())):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "t.json").write_text(sabre_json.dump(trace))
    assert run("traces", "stats", str(tmp_path / "steady"), str(tmp_path / "tunnel")) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│")]
    assert len(rows) == 2
    assert rows[0].split("│")[1].strip() == "steady" and "1000" in rows[0]
    assert rows[1].split("│")[1].strip() == "tunnel"


def test_stats_command_format_override(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "t.log"
    path.write_text("0 1\n1 2\n")
    assert run("traces", "stats", "--format", "pensieve", str(path)) == 0
    assert run("traces", "stats", "--format", "csv", str(path)) == 2
    assert "missing column" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("content", "where"),
    [
        ("duration_s,bandwidth_kbps\n1,-3\n", "bad.csv:2: negative bandwidth -3 kbps"),
        (None, "nope"),
    ],
)
def test_stats_command_reports_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None, where: str
) -> None:
    path = tmp_path / ("bad.csv" if content else "nope")
    if content:
        path.write_text(content)
    assert run("traces", "stats", str(path)) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1
    assert captured.err.startswith(f"streamlab traces: error: {tmp_path}/")
    assert where in captured.err


def test_stats_command_refuses_an_empty_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "README.md").write_text("nothing here")
    assert run("traces", "stats", str(tmp_path)) == 2
    assert "no trace files" in capsys.readouterr().err
