"""Were progress reports lost? The server's stored offset against the sessions' reports.

The server keeps one row per user and title, the newest by `reported_at`. So for each title
the stored row must be the newest report any session got through, and every session's final
report (its last position) must have got through.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from qa.backend import Api
from qa.session import SessionOutcome


@dataclass(frozen=True)
class ProgressCheck:
    video_id: str
    stored_offset_s: float
    expected_offset_s: float  # the newest report acknowledged for the title
    sessions: int
    finals_lost: tuple[int, ...]  # sessions whose final report never got through

    @property
    def kept(self) -> bool:
        return not self.finals_lost and abs(self.stored_offset_s - self.expected_offset_s) < 1e-6


async def check_progress(api: Api, outcomes: Sequence[SessionOutcome]) -> list[ProgressCheck]:
    by_title: dict[str, list[SessionOutcome]] = {}
    for outcome in outcomes:
        if outcome.manifest is not None and outcome.reports:
            by_title.setdefault(outcome.spec.video_id, []).append(outcome)
    checks = []
    for video_id, group in sorted(by_title.items()):
        acked = [r for o in group for r in o.reports if r.acked]
        newest = max(acked, key=lambda r: r.reported_at, default=None)
        manifest = group[0].manifest
        assert manifest is not None
        stored, _ = await api.stored_progress(manifest)
        checks.append(
            ProgressCheck(
                video_id,
                stored,
                newest.offset_s if newest is not None else float("nan"),
                len(group),
                tuple(o.spec.index for o in group if not o.reports[-1].acked),
            )
        )
    return checks


def mark_lost_progress(outcomes: Sequence[SessionOutcome], checks: Sequence[ProgressCheck]) -> None:
    """A session whose progress the server lost failed, as far as the viewer is concerned."""
    by_index = {o.spec.index: o for o in outcomes}
    for check in checks:
        for index in check.finals_lost:
            outcome = by_index[index]
            outcome.failure = outcome.failure or "final progress report never got through"
        if not check.finals_lost and not check.kept:
            last = max(
                (o for o in outcomes if o.spec.video_id == check.video_id),
                key=lambda o: o.ended_at,
            )
            last.failure = last.failure or (
                f"server kept offset {check.stored_offset_s:.2f} s for {check.video_id}, "
                f"the newest report said {check.expected_offset_s:.2f} s"
            )
