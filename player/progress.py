"""Progress sync: every report is written to a journal on disk first, then sent, in order.

A report that cannot be sent (network down, API 5xx) stays in the journal and is sent
before any newer one the next time, including after a crash or restart: `flush` replays the
whole journal oldest first. The server keeps the report with the latest `reported_at`, so a
replayed report never overwrites a newer position. A report the API rejects for good (4xx
in PERMANENT_STATUS) is dropped with the reason logged: retrying it would block the rest.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from player.api import ApiError, AuthError

log = logging.getLogger(__name__)

# Answers that retrying cannot change: a malformed report, an unknown playback session.
PERMANENT_STATUS = {400, 404, 409, 422}


@dataclass(frozen=True)
class ProgressReport:
    video_id: str
    playback_session_id: str
    offset_seconds: float
    device_id: str
    reported_at: float  # epoch seconds, when the viewer was at that offset
    reason: str = "periodic"  # periodic, pause, seek, stop, close

    def body(self) -> dict[str, Any]:
        body = asdict(self)
        del body["reason"]
        return body


Send = Callable[[dict[str, Any]], Awaitable[object]]


class ProgressJournal:
    """Reports not yet acknowledged by the server, one JSON object per line."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def pending(self) -> list[ProgressReport]:
        if not self.path.exists():
            return []
        reports = []
        for number, line in enumerate(self.path.read_text().splitlines(), 1):
            if not line.strip():
                continue
            try:
                reports.append(ProgressReport(**json.loads(line)))
            except (ValueError, TypeError) as exc:
                # A line cut by a crash mid-write: the rest of the journal is still good.
                log.warning(
                    "%s:%d: skipping an unreadable progress report (%s)", self.path, number, exc
                )
        return reports

    def append(self, report: ProgressReport) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a") as fh:
            fh.write(json.dumps(asdict(report)) + "\n")
            fh.flush()
            os.fsync(fh.fileno())

    def drop_oldest(self, count: int) -> None:
        """Remove the `count` oldest reports (the ones sent); any appended since they were
        read stay. Synchronous, so no append on the event loop can fall in between."""
        reports = self.pending()[count:]
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text("".join(json.dumps(asdict(r)) + "\n" for r in reports))
        os.replace(tmp, self.path)  # atomic: a crash leaves the old or the new journal


class ProgressSync:
    """Sends reports through the journal. Use from one event loop (the player's)."""

    def __init__(
        self, journal: ProgressJournal, send: Send, clock: Callable[[], float] = time.time
    ) -> None:
        self.journal = journal
        self._send = send
        self._clock = clock
        self.sent = 0
        self.last_error: str | None = None
        # Two flushes at once would send the same reports twice, and the first to finish
        # would rewrite the journal without a report the other had not sent yet.
        self._flushing = asyncio.Lock()

    async def report(
        self, video_id: str, session_id: str, offset_s: float, device_id: str, reason: str
    ) -> bool:
        """Journal a report, then send everything pending. True when nothing is left pending."""
        self.journal.append(
            ProgressReport(
                video_id, session_id, round(offset_s, 3), device_id, self._clock(), reason
            )
        )
        return await self.flush()

    async def flush(self) -> bool:
        """Send what is pending, oldest first. True when all of it went through (or was
        refused for good); reports journaled meanwhile are sent by their own flush."""
        async with self._flushing:
            return await self._flush()

    async def _flush(self) -> bool:
        pending = self.journal.pending()
        done = 0
        for report in pending:
            try:
                await self._send(report.body())
            except AuthError as exc:
                self.last_error = str(
                    exc
                )  # keep it: it goes through after the viewer logs in again
                break
            except ApiError as exc:
                if exc.status in PERMANENT_STATUS:
                    log.warning("dropping a progress report the API refuses: %s", exc)
                    done += 1
                    continue
                self.last_error = str(exc)
                break
            done += 1
            self.sent += 1
        if done:
            self.journal.drop_oldest(done)
        if done == len(pending):
            self.last_error = None
        return done == len(pending)
