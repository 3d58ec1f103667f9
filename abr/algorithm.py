"""The interface every ABR algorithm implements: built-in ones and researchers' own.

A minimal algorithm overrides `choose` only:

    class AlwaysSecondLowest(AbrAlgorithm):
        name = "second-lowest"

        def choose(self, ctx: AbrContext) -> int:
            return min(1, ctx.max_rendition)

`choose` may return a `Decision` instead, to pace the request or to say why.

The session calls `start` once the presentation is known, `choose` before each request,
`on_download` after each download, `on_idle` after waiting on a full buffer, `on_seek`
after a seek, and `should_abandon` while a download is slow (when abandonment is enabled).

Live only, `playback_rate` lets an algorithm steer the playback rate (LoL+ does): the session
asks it after every event while it holds the target latency, and prefers its answer, clamped
to 1 +- `SessionConfig.live_max_rate_change` and rounded to 0.01, over its own catch-up. The
default answers None: the session's catch-up (`abr.liveedge.catch_up_rate`) decides. VOD never
asks: it plays at 1x.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from mypy_extensions import mypyc_attr

from abr.context import AbrContext, Decision, DownloadRecord, Progress
from abr.rules.abandon import abandon_if_late


# Researchers subclass this in plain Python even when `make compile` has compiled it.
@mypyc_attr(allow_interpreted_subclasses=True)
class AbrAlgorithm(ABC):
    name: ClassVar[str] = "custom"

    def start(self, ctx: AbrContext) -> None:  # noqa: B027 - optional hook
        """The presentation and buffer target are known: derive parameters here."""

    @abstractmethod
    def choose(self, ctx: AbrContext) -> int | Decision | None:
        """The rendition for segment `ctx.segment_index`.

        None defers the decision (an external policy, such as a reinforcement-learning agent,
        has not answered yet): the session requests nothing and asks again on the next event.
        """

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:  # noqa: B027 - optional hook
        """A download finished (or was abandoned: `record.abandoned`)."""

    def on_idle(self, ctx: AbrContext, waited_s: float) -> None:  # noqa: B027 - optional hook
        """The session waited `waited_s` because the buffer was full."""

    def on_seek(self, ctx: AbrContext) -> None:  # noqa: B027 - optional hook
        """The buffer was flushed; `ctx.segment_index` is the new start."""

    def playback_rate(self, ctx: AbrContext, max_change: float) -> float | None:
        """Live: the rate to play at now (1.0 normal), or None to leave it to the session.

        Asked after every event while playing at the target latency, and every half second
        while the algorithm answers (so it can slow down before a stall no event precedes).
        `ctx.live_latency_s`, `ctx.live_target_latency_s` and `ctx.playback_rate` (the rate
        now) are up to date; the answer is clamped to [1 - max_change, 1 + max_change].
        """
        return None

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | Decision | None:
        """A lower rendition to re-request the segment at, or None to keep downloading.

        A `Decision` carries the reason into the re-request's record (its delay is ignored).
        """
        return abandon_if_late(ctx, progress)
