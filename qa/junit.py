"""JUnit XML for CI: one testcase per target, one per failed session."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from qa.session import SessionOutcome
from qa.targets import TargetCheck


def write_junit(
    path: Path, checks: Sequence[TargetCheck], outcomes: Sequence[SessionOutcome], wall_s: float
) -> None:
    failed_sessions = [o for o in outcomes if o.failed]
    cases = len(checks) + len(failed_sessions)
    failures = sum(not c.met for c in checks) + len(failed_sessions)
    suites = ET.Element("testsuites", name="streamlab qa", tests=str(cases))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="streamlab qa",
        tests=str(cases),
        failures=str(failures),
        errors="0",
        skipped="0",
        time=f"{wall_s:.3f}",
    )
    for check in checks:
        case = ET.SubElement(suite, "testcase", classname="qa.targets", name=check.name, time="0")
        verdict = f"{check.description}: {_number(check.measured)} (limit {_number(check.limit)})"
        if check.met:
            ET.SubElement(case, "system-out").text = verdict
        else:
            ET.SubElement(case, "failure", message=verdict, type="TargetMissed").text = verdict
    for outcome in failed_sessions:
        spec = outcome.spec
        case = ET.SubElement(
            suite,
            "testcase",
            classname="qa.sessions",
            name=f"session {spec.index} ({spec.trace.set_name}/{spec.trace.name}, {spec.video_id})",
            time=f"{outcome.ended_at - outcome.started_at:.3f}",
        )
        reason = outcome.failure or "failed"
        ET.SubElement(case, "failure", message=reason, type="SessionFailed").text = "\n".join(
            [reason, *(f"t={t:.2f} s: {why}" for t, why in outcome.errors)]
        )
    ET.indent(suites)
    ET.ElementTree(suites).write(path, encoding="utf-8", xml_declaration=True)


def _number(value: float) -> str:
    return "n/a" if math.isnan(value) else f"{value:.4g}"
