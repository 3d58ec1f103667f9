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
    assert load_targets(empty) == load_targets(None) == Targets(2.0, 0.005, None, 0, None)


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
