"""Were progress reports lost? The server's stored offset against what the sessions' journals sent.

Sessions report through the player's `ProgressSync`. The server keeps one row per user and
title, the newest by `reported_at`. So for each title the stored row must be the newest
report any session delivered, and every session's final report (its last position) must
have been delivered: none left in its journal, none refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from player.api import BackendApi, PlaybackInfo
from player.progress import ProgressReport
from qa.session import SessionOutcome

CHECK_DEVICE = "qa-check"


@dataclass(frozen=True)
class ProgressCheck:
    video_id: str
    stored_offset_s: float
    expected_offset_s: float  # the newest report delivered for the title
    sessions: int
    replayed: int  # reports the journals kept through a failure and sent later
    finals_lost: tuple[int, ...]  # sessions whose final report was never delivered

    @property
    def kept(self) -> bool:
        return not self.finals_lost and abs(self.stored_offset_s - self.expected_offset_s) < 1e-6


async def stored_offset(api: BackendApi, playback: PlaybackInfo) -> float:
    """The offset the server holds for this user and title.

    Read through the idempotent write: a report older than the stored one changes nothing
    and is answered with the stored row (there is no read endpoint for a finished title,
    which continue-watching leaves out)."""
    probe = ProgressReport(playback.video_id, playback.session_id, 0.0, CHECK_DEVICE, 1.0)
    return (await api.report_progress(probe.body())).offset_s


async def check_progress(
    api: BackendApi, outcomes: Sequence[SessionOutcome]
) -> list[ProgressCheck]:
    by_title: dict[str, list[SessionOutcome]] = {}
    for outcome in outcomes:
        if outcome.playback is not None and outcome.progress.made:
            by_title.setdefault(outcome.spec.video_id, []).append(outcome)
    checks = []
    for video_id, group in sorted(by_title.items()):
        delivered = [d for o in group for d in o.progress.delivered]
        newest = max(delivered, key=lambda d: d.reported_at, default=None)
        playback = group[0].playback
        assert playback is not None
        checks.append(
            ProgressCheck(
                video_id,
                await stored_offset(api, playback),
                newest.offset_s if newest is not None else float("nan"),
                len(group),
                sum(o.progress.replayed for o in group),
                tuple(o.spec.index for o in group if not o.progress.final_delivered),
            )
        )
    return checks


def mark_lost_progress(outcomes: Sequence[SessionOutcome], checks: Sequence[ProgressCheck]) -> None:
    """A session whose progress the server lost failed, as far as the viewer is concerned."""
    by_index = {o.spec.index: o for o in outcomes}
    for check in checks:
        for index in check.finals_lost:
            outcome = by_index[index]
            left = len(outcome.progress.pending)
            outcome.failure = outcome.failure or (
                f"final progress report never got through ({left} left in "
                f"{outcome.progress.journal})"
            )
        if not check.finals_lost and not check.kept:
            last = max(
                (o for o in outcomes if o.spec.video_id == check.video_id),
                key=lambda o: o.ended_at,
            )
            last.failure = last.failure or (
                f"server kept offset {check.stored_offset_s:.2f} s for {check.video_id}, "
                f"the newest report said {check.expected_offset_s:.2f} s"
            )
