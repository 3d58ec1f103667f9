"""The compare report as a reader meets it: the numbers in the table, the files, the figures."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from abr.context import DownloadRecord
from simulator.compare import Lab, LabSetup
from simulator.optimal import optimal_qoe_lin
from simulator.plots import Timeline, buffer_points, cdf_plot, link_steps, timeline_plot
from simulator.report import (
    ReportPaths,
    gap_terms,
    median_sessions,
    summary_table,
    write_report,
)
from simulator.synthetic_video import synthetic_video
from simulator.video import load_video
from traces import synthetic
from traces.trace import Trace

# Deliberately not alphabetical: the table must keep the order the user listed them in.
ALGORITHMS = ["robustmpc", "bba", "bola"]
SETS = ["lte", "3g"]  # the table sorts these: 3g first
TRACES_PER_SET = 40


@pytest.fixture(scope="module")
def results() -> pd.DataFrame:
    """240 sessions shaped like `streamlab compare` rows (2 sets x 3 algorithms x 40 traces)."""
    rng = np.random.default_rng(7)
    rows = []
    for trace_set in SETS:
        slow = trace_set == "3g"
        for i in range(TRACES_PER_SET):
            for k, abr in enumerate(ALGORITHMS):
                # Most sessions never stall; the rest have a long-tailed rebuffer ratio.
                stalled = rng.random() < (0.4 if slow else 0.15)
                rebuffer = float(rng.exponential(0.008)) if stalled else 0.0
                bitrate = float(rng.normal(1200 if slow else 3500, 300)) + 150 * k
                played = 600.0
                rows.append(
                    {
                        "trace_set": trace_set,
                        "trace": f"{trace_set}-{i:03d}",
                        "abr": abr,
                        "startup_s": float(rng.gamma(2.0, 0.4)),
                        "rebuffer_ratio": rebuffer,
                        "rebuffer_s": rebuffer * played / (1 - rebuffer),
                        "stall_count": int(rng.poisson(3)) if stalled else 0,
                        "bitrate_kbps": bitrate,
                        "switches": int(rng.poisson(12)),
                        "qoe_lin": bitrate / 1000 - 4.3 * rebuffer * 4 - 0.1,
                        "qoe_log": float(rng.normal(1.5, 0.3)),
                        "qoe_hd": float(rng.normal(2.0, 0.5)),
                        "switch_magnitude_kbps": float(rng.gamma(2.0, 300.0)),
                        "segments": 150,
                        "abandoned": int(rng.poisson(0.5)),
                        "played_s": played,
                        "wall_s": played + 1.0,
                        "profile": "default",
                    }
                )
    return pd.DataFrame(rows)


def record(
    index: int,
    rendition: int,
    requested_at: float,
    done_at: float,
    kbps: float,
    before: float,
    after: float,
    stall: float = 0.0,
    abandoned: bool = False,
) -> DownloadRecord:
    return DownloadRecord(
        segment_index=index,
        rendition_index=rendition,
        bits=kbps * 1000 * (done_at - requested_at - 0.05),
        requested_at=requested_at,
        first_byte_at=requested_at + 0.05,
        done_at=done_at,
        throughput_kbps=kbps,
        latency_s=0.05,
        buffer_before_s=before,
        buffer_after_s=after,
        stall_s=stall,
        abandoned=abandoned,
    )


@pytest.fixture(scope="module")
def timeline() -> Timeline:
    """A 4 s-segment session on a 20 s trace that drops to 0.5 Mbit/s, so it loops and stalls."""
    trace = Trace(
        name="drop-3M-0.5M",
        set_name="3g",
        durations_s=np.array([10.0, 10.0]),
        bandwidth_kbps=np.array([3000.0, 500.0]),
        latency_s=np.array([0.05, 0.05]),
    )
    downloads = [
        record(0, 0, 0.0, 0.4, 2900, before=0.0, after=4.0),  # start-up
        record(1, 2, 0.4, 2.0, 2950, before=4.0, after=6.4),
        record(2, 3, 2.0, 4.5, 2900, before=6.4, after=7.9),
        record(3, 3, 8.0, 10.9, 2600, before=4.4, after=5.5),
        record(4, 3, 10.9, 12.5, 480, before=5.5, after=3.9, abandoned=True),
        # Buffer 3.9 s, download 6.1 s: playback runs dry at 16.4 s and stalls 2.2 s.
        record(4, 0, 12.5, 18.6, 490, before=3.9, after=4.0, stall=2.2),
        record(5, 0, 18.6, 21.0, 700, before=4.0, after=5.6),
        record(6, 1, 21.0, 22.5, 2900, before=5.6, after=8.1),
    ]
    return Timeline(
        abr="bola",
        trace_set="3g",
        trace=trace,
        downloads=downloads,
        bitrates_kbps=[300.0, 750.0, 1200.0, 2400.0],
        summary={"bitrate_kbps": 1480.0, "rebuffer_ratio": 0.1, "startup_s": 0.4, "qoe_lin": 0.9},
    )


def test_summary_cell_matches_hand_computed_statistics(results: pd.DataFrame) -> None:
    table = summary_table(results)
    row = table[(table.set == "3g") & (table.abr == "bola")].iloc[0]
    cell = results[(results.trace_set == "3g") & (results.abr == "bola")]
    rebuffer = cell.rebuffer_ratio.to_numpy()

    assert row.sessions == TRACES_PER_SET
    assert row.bitrate_kbps == pytest.approx(cell.bitrate_kbps.mean())
    assert row["rebuffer_%"] == pytest.approx(rebuffer.mean() * 100)
    assert row["rebuffer_p95_%"] == pytest.approx(np.percentile(rebuffer, 95) * 100)
    assert row["over_0.5%_%"] == pytest.approx(np.count_nonzero(rebuffer > 0.005) / 40 * 100)
    assert row.startup_s == pytest.approx(cell.startup_s.mean())
    assert row.startup_p99_s == pytest.approx(np.percentile(cell.startup_s, 99))
    assert row.switches == pytest.approx(cell.switches.mean())
    assert row.qoe_lin == pytest.approx(cell.qoe_lin.mean())
    assert "%_of_optimum" not in table.columns


def test_summary_sorts_sets_and_keeps_the_algorithm_order(results: pd.DataFrame) -> None:
    table = summary_table(results)
    assert list(table.set) == ["3g"] * 3 + ["lte"] * 3
    assert list(table.abr) == ALGORITHMS * 2


def test_share_over_target_counts_sessions_strictly_above_half_a_percent() -> None:
    rows = pd.DataFrame(
        {
            "trace_set": "s",
            "trace": [f"t{i}" for i in range(5)],
            "abr": "bba",
            "rebuffer_ratio": [0.0, 0.004, 0.005, 0.006, 0.02],
            "bitrate_kbps": 1000.0,
            "startup_s": 1.0,
            "switches": 3,
            "qoe_lin": 1.0,
        }
    )
    row = summary_table(rows).iloc[0]
    assert row["over_0.5%_%"] == pytest.approx(40.0)  # exactly 0.5 % meets the target
    assert row["rebuffer_%"] == pytest.approx(0.7)


def test_percent_of_optimum_appears_with_an_optimal_column(results: pd.DataFrame) -> None:
    with_optimum = results.assign(optimal_qoe_lin=results.qoe_lin + 0.5)
    table = summary_table(with_optimum)
    cell = with_optimum[(with_optimum.trace_set == "lte") & (with_optimum.abr == "bba")]
    row = table[(table.set == "lte") & (table.abr == "bba")].iloc[0]
    expected = cell.qoe_lin.mean() / cell.optimal_qoe_lin.mean() * 100
    assert row["%_of_optimum"] == pytest.approx(expected)


def test_start_up_as_stall_and_its_gap_appear_when_the_results_have_them(
    results: pd.DataFrame,
) -> None:
    assert "qoe_lin_startup" not in summary_table(results).columns  # results from before it
    charged = results.assign(
        qoe_lin_startup=results.qoe_lin - 4.3 * results.startup_s / results.segments,
        optimal_qoe_lin=results.qoe_lin + 0.5,
    )
    charged = charged.assign(optimal_qoe_lin_startup=charged.qoe_lin_startup + 0.25)
    table = summary_table(charged)
    columns = list(table.columns)
    assert columns.index("qoe_lin_startup") == columns.index("qoe_lin") + 1
    row = table[(table.set == "3g") & (table.abr == "bba")].iloc[0]
    cell = charged[(charged.trace_set == "3g") & (charged.abr == "bba")]
    assert row.qoe_lin_startup == pytest.approx(cell.qoe_lin_startup.mean())
    assert row.gap_to_optimum_startup == pytest.approx(0.25)


def test_summary_has_no_empty_column(results: pd.DataFrame) -> None:
    # The gap's split into bitrate, stalls and switching has a table of its own.
    for frame in (results, results.assign(optimal_qoe_lin=results.qoe_lin + 0.5)):
        table = summary_table(frame)
        assert not table.isna().all().any(), table.columns[table.isna().all()].tolist()


def test_median_sessions_pools_sets_and_breaks_ties_by_trace_name() -> None:
    rows = pd.DataFrame(
        [
            # a: QoE 1..5 across both sets; the median (3) is in set y.
            ("a", "x", "t1", 5.0),
            ("a", "y", "t2", 3.0),
            ("a", "x", "t3", 1.0),
            ("a", "y", "t4", 4.0),
            ("a", "x", "t5", 2.0),
            # b: four sessions, lower middle is a tie at 2.0 between t9 and t1.
            ("b", "x", "t9", 2.0),
            ("b", "x", "t1", 2.0),
            ("b", "y", "t2", 1.0),
            ("b", "y", "t3", 3.0),
        ],
        columns=["abr", "trace_set", "trace", "qoe_lin"],
    )
    assert median_sessions(rows) == [("a", "y", "t2"), ("b", "x", "t1")]
    # Row order must not change the pick.
    assert median_sessions(rows.iloc[::-1]) == [("b", "x", "t1"), ("a", "y", "t2")]


def test_median_sessions_of_the_generated_results(results: pd.DataFrame) -> None:
    picks = median_sessions(results)
    assert [p[0] for p in picks] == ALGORITHMS
    for abr, trace_set, trace in picks:
        pooled = results[results.abr == abr].qoe_lin
        row = results[(results.abr == abr) & (results.trace_set == trace_set)]
        picked = row[row.trace == trace].qoe_lin.iloc[0]
        # Half the sessions (lower middle of 80) at or below it, half above.
        assert (pooled <= picked).sum() == len(pooled) // 2


def test_link_loops_the_trace_over_a_longer_session(timeline: Timeline) -> None:
    times, kbps = link_steps(timeline.trace, 35.0)
    assert list(times) == [0.0, 10.0, 20.0, 30.0, 35.0]
    assert list(kbps) == [3000.0, 500.0, 3000.0, 500.0, 500.0]


def test_buffer_curve_runs_dry_during_the_stall(timeline: Timeline) -> None:
    points = buffer_points(timeline.downloads, playing_from=0.4)
    assert (16.4, 0.0) in [(round(t, 6), level) for t, level in points]
    assert (18.6, 0.0) in points and (18.6, 4.0) in points  # empty until the segment lands
    assert all(level >= 0 for _, level in points)


def test_timeline_figure_has_three_panels_and_names_the_session(timeline: Timeline) -> None:
    fig = timeline_plot(timeline)
    axes = fig.get_axes()
    assert len(axes) == 3
    assert axes[2].get_xlabel() == "session time (s)"
    title = fig.get_suptitle()
    assert (
        "bola" in title
        and "drop-3M-0.5M" in title
        and "1 stall," in title
        and "4 switches" in title
    )


def test_cdf_keeps_an_algorithms_colour_in_a_panel_where_another_is_missing(
    results: pd.DataFrame,
) -> None:
    subset = results[~((results.trace_set == "3g") & (results.abr == "robustmpc"))]
    fig = cdf_plot(subset, "rebuffer_ratio", xlabel="rebuffer ratio (%)", percent=True)
    panels = [ax for ax in fig.get_axes() if ax.get_visible()]
    assert [ax.get_title() for ax in panels] == ["3g (80 sessions)", "lte (120 sessions)"]
    colours = [{line.get_color() for line in ax.get_lines()[:-1]} for ax in panels]
    assert colours[0] < colours[1]  # bba and bola kept theirs; robustmpc's is simply absent
    target = panels[0].get_lines()[-1]
    assert np.asarray(target.get_xdata(), dtype=float).tolist() == [0.5, 0.5]  # in percent


COMMAND = "streamlab compare --traces traces/3g traces/lte --abr robustmpc,bba,bola"


@pytest.fixture(scope="module")
def report(
    results: pd.DataFrame, timeline: Timeline, tmp_path_factory: pytest.TempPathFactory
) -> ReportPaths:
    """Written once for the module: rendering the figures is the slow part (~2 s)."""
    out = tmp_path_factory.mktemp("report") / "out"  # does not exist yet: write_report makes it
    return write_report(results, out, timelines=[timeline], command=COMMAND)


def test_report_files_reference_every_figure_and_every_reference_exists(
    report: ReportPaths,
) -> None:
    markdown = report.markdown.read_text(encoding="utf-8")
    page = report.html.read_text(encoding="utf-8")
    assert report.markdown.parent == report.html.parent

    stems = {p.stem for p in report.figures}
    assert {"cdf_qoe_lin", "cdf_rebuffer_ratio", "tradeoff", "timeline_bola"} <= stems
    assert {p.suffix for p in report.figures} == {".png", ".svg"}
    for text in (markdown, page):
        referenced = set(re.findall(r"figures/[\w.-]+\.(?:png|svg)", text))
        assert referenced == {f"figures/{p.name}" for p in report.figures}
        for name in referenced:
            assert_figure_file(report.html.parent / name)
        assert COMMAND in text
        assert "240 (80 traces)" in text
        assert text.count("How to read this") == 5  # table, 2 CDFs, trade-off, 1 timeline


def test_html_summary_table_lists_every_algorithm_with_formatted_numbers(
    results: pd.DataFrame, report: ReportPaths
) -> None:
    page = report.html.read_text(encoding="utf-8")
    table = page[page.index("<table") : page.index("</table>")]
    for abr in ALGORITHMS:
        assert table.count(f"<td>{abr}</td>") == 2  # one row per trace set
    mean_rebuffer = summary_table(results)["rebuffer_%"].iloc[0]
    assert f"<td>{mean_rebuffer:.3g} %</td>" in table
    assert "e-0" not in table  # no scientific notation in front of a reader


def assert_figure_file(path: Path) -> None:
    data = path.read_bytes()
    assert len(data) > 1000, path
    if path.suffix == ".png":
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), path
    else:
        assert b"<svg" in data[:2000], path


def test_the_gap_to_the_optimum_splits_into_bitrate_stalls_and_switching(
    tmp_path: Path,
) -> None:
    video_path = tmp_path / "video.json"
    video_path.write_text(json.dumps(synthetic_video(segments=40, seed=5)))
    lab = Lab(LabSetup(str(video_path), ("bba", "robustmpc"), optimal=True))
    traces = synthetic.builtin_set(seed=3)[:4]
    rows = pd.DataFrame([row for trace in traces for row in lab.rows_for(trace)])
    terms = gap_terms(rows)
    parts = terms.gap_from_bitrate + terms.gap_from_stalls + terms.gap_from_switching
    assert parts.to_numpy() == pytest.approx(terms.gap_to_optimum.to_numpy())
    # The bitrate part, checked against the optimum's own plan (equal-length segments).
    video = load_video(str(video_path))
    target = lab.setup.profile.session.target_s(max(video.segment_durations_s))
    mbps = [r.bandwidth_bps / 1e6 for r in video.renditions]
    plans = {t.name: optimal_qoe_lin(t, video, target).renditions for t in traces}
    optimal_mbps = rows.trace.map(lambda name: float(np.mean([mbps[q] for q in plans[name]])))
    expected = (optimal_mbps - rows.bitrate_kbps / 1000.0).groupby(rows.abr).mean()
    for name, value in expected.items():
        assert terms[terms.abr == name].gap_from_bitrate.iloc[0] == pytest.approx(value, abs=1e-6)
    page = write_report(rows, tmp_path / "report").html.read_text()
    assert "Where the gap to the optimum goes" in page and "of which stalls" in page
