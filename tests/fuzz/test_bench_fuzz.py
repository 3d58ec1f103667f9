"""`make fuzz` and `bench.run --only` rewrite only their sections of bench/results.md."""

from __future__ import annotations

from bench.fuzz import HEADING, table
from bench.results_file import section, with_section

RESULTS = "# streamlab benchmarks\n\n## Lab speed\n\nfast\n\n## QA harness\n\ngood\n"
COUNTS = {"traces.csv": {"ok": 3, "domain_error": 5, "crash": 0, "hang": 0, "wall_s": 1.5}}


def test_the_section_is_appended_then_replaced_and_the_rest_kept() -> None:
    first = with_section(RESULTS, table(COUNTS, 10, 2.0, 0))
    assert first.startswith(RESULTS) and "| traces.csv | 8 | 5 | 0 | 0 | 1.5 |" in first
    again = with_section(first, table({**COUNTS, "x": {"ok": 1}}, 10, 2.0, 1))
    assert again.startswith(RESULTS) and again.count("## Fuzzing") == 1
    assert "| x | 1 |" in again and "FAILED (pytest exit code 1)" in again


def test_a_section_in_the_middle_is_replaced_in_place() -> None:
    middle = RESULTS.replace("## QA harness", "## Fuzzing\n\nold table\n\n## QA harness")
    updated = with_section(middle, table(COUNTS, 10, 2.0, 0))
    assert "old table" not in updated and updated.endswith("## QA harness\n\ngood\n")
    assert "traces.csv" in (section(updated, HEADING) or "")
    assert section(RESULTS, HEADING) is None


def test_a_re_run_section_replaces_the_one_with_its_heading_line_only() -> None:
    text = RESULTS + "\n## Lab speed, sabre\n\nslow\n"
    updated = with_section(text, "## Lab speed\n\nfaster\n")
    assert "fast\n" not in updated.replace("faster", "")
    assert updated.count("## Lab speed\n") == 1 and "## Lab speed, sabre\n\nslow\n" in updated
    assert updated.index("faster") < updated.index("## QA harness")
