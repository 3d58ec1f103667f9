"""The gate's arithmetic: defaults, percentiles over few sessions, failed sessions."""

from __future__ import annotations

import math
from pathlib import Path

from qa.targets import SessionFigures, Targets, check, load_targets


def figures(ttffs: list[float], rebuffer: float = 0.0, failed: int = 0) -> list[SessionFigures]:
    ok = [SessionFigures(t, rebuffer, 1000.0, False) for t in ttffs]
    return ok + [SessionFigures(math.nan, math.nan, math.nan, True)] * failed


def by_name(targets: Targets, sessions: list[SessionFigures]) -> dict[str, bool]:
    return {c.name: c.met for c in check(targets, sessions)}


def test_defaults_are_the_product_requirements(tmp_path: Path) -> None:
    empty = tmp_path / "qa.toml"
    empty.write_text("")
    assert load_targets(empty) == load_targets(None) == Targets(2.0, 0.005, None, 0, None, None)


def test_p99_start_up_over_few_sessions_is_the_worst_one() -> None:
    sessions = figures([0.5] * 9 + [2.5])
    checks = {c.name: c for c in check(Targets(), sessions)}
    assert checks["startup_p99_s"].measured == 2.5 and not checks["startup_p99_s"].met
    assert by_name(Targets(startup_p99_s=3.0), sessions)["startup_p99_s"]


def test_a_failed_session_misses_only_the_failure_target() -> None:
    met = by_name(Targets(), figures([0.5, 0.6], failed=1))
    assert met == {"startup_p99_s": True, "rebuffer_ratio_max": True, "sessions_failed_max": False}
    assert by_name(Targets(sessions_failed_max=1), figures([0.5], failed=1))["sessions_failed_max"]


def test_optional_targets_appear_only_when_set() -> None:
    met = by_name(Targets(rebuffer_ratio_p95_max=0.01, bitrate_kbps_min=1500), figures([0.5], 0.02))
    assert met == {
        "startup_p99_s": True,
        "rebuffer_ratio_max": False,
        "sessions_failed_max": True,
        "rebuffer_ratio_p95_max": False,
        "bitrate_kbps_min": False,
    }


def test_a_session_without_a_first_frame_has_an_infinite_start_up() -> None:
    checks = {c.name: c for c in check(Targets(), figures([0.5, math.nan]))}
    assert checks["startup_p99_s"].measured == math.inf and not checks["startup_p99_s"].met


def test_the_live_latency_target_is_the_p95_of_the_sessions_p95s_with_a_default() -> None:
    sessions = [SessionFigures(0.5, 0.0, 800.0, False, p95) for p95 in [6.2] * 19 + [7.4]]
    # No latency target in the file: the default the live run passes (target + 1 s).
    (latency,) = [c for c in check(Targets(), sessions, 7.0) if c.name == "latency_p95_s"]
    assert (latency.limit, latency.measured, latency.met) == (7.0, 6.2, True)
    # 20 sessions: p95 is the 19th, so one slow session does not fail the gate; two do.
    slower = [*sessions[:-2], *[SessionFigures(0.5, 0.0, 800.0, False, 7.4)] * 2]
    assert not by_name_live(Targets(), slower, 7.0)["latency_p95_s"]
    assert by_name_live(Targets(latency_p95_s=8.0), slower, 7.0)["latency_p95_s"]
    # VOD runs have no latency check; a live session that never played has an infinite one.
    assert "latency_p95_s" not in by_name(Targets(latency_p95_s=8.0), sessions)
    never = [SessionFigures(0.5, 0.0, 800.0, False, math.nan)]
    assert not by_name_live(Targets(latency_p95_s=100.0), never, 7.0)["latency_p95_s"]


def by_name_live(
    targets: Targets, sessions: list[SessionFigures], default: float
) -> dict[str, bool]:
    return {c.name: c.met for c in check(targets, sessions, default)}
