"""Loading the segment indexes of an unindexed (DASH SegmentBase) presentation, for the session.

All renditions' indexes are requested at once, in parallel: each is a few hundred bytes, and
the algorithms need every rendition's segment sizes (`AbrContext.sizes_bits`) at their first
decision, so fetching them lazily would save nothing and add round trips before the first
frame. A failed request is retried like a segment (`SessionConfig.max_retries`, the same
back-off); a non-retryable failure, an exhausted budget or a box that does not parse ends it.
"""

from __future__ import annotations

from collections.abc import Callable

from abr.commands import FetchIndex
from abr.config import SessionConfig
from abr.events import SegmentFailed
from abr.manifests import with_indexes
from abr.presentation import Presentation


class IndexLoader:
    def __init__(
        self, presentation: Presentation, config: SessionConfig, next_id: Callable[[], int]
    ) -> None:
        self.presentation = presentation
        self._config = config
        self._next_id = next_id
        self._in_flight: dict[int, int] = {}  # request id -> rendition index
        self._retry_at: dict[int, float] = {}  # rendition index -> when to ask again
        self._retries: dict[int, int] = {}
        self._boxes: dict[int, bytes] = {}

    def start(self) -> list[FetchIndex]:
        return [self._fetch(i) for i in range(len(self.presentation.renditions))]

    def loaded(self, request_id: int, data: bytes) -> Presentation | None:
        """The full presentation once the last index is in; ManifestError if a box is bad."""
        rendition = self._in_flight.pop(request_id, None)
        if rendition is None:
            return None
        self._boxes[rendition] = data
        if len(self._boxes) < len(self.presentation.renditions):
            return None
        return with_indexes(self.presentation, self._boxes)

    def failed(self, event: SegmentFailed) -> str | None:
        """Why the session must give up, or None when a retry is scheduled."""
        rendition = self._in_flight.pop(event.request_id, None)
        if rendition is None:
            return None
        retries = self._retries.get(rendition, 0) + 1
        self._retries[rendition] = retries
        cfg = self._config
        if not event.retryable or retries > cfg.max_retries:
            rid = self.presentation.renditions[rendition].id
            return f"index of rendition {rendition} ({rid!r}): {event.reason}"
        backoff = min(cfg.retry_backoff_s * 2 ** (retries - 1), cfg.retry_backoff_max_s)
        self._retry_at[rendition] = event.now + backoff
        return None

    def due(self, now: float) -> list[FetchIndex]:
        """The retries whose back-off is over."""
        ready = [r for r, at in self._retry_at.items() if at <= now + 1e-9]
        for rendition in ready:
            del self._retry_at[rendition]
        return [self._fetch(r) for r in sorted(ready)]

    def next_wakeup(self) -> float | None:
        return min(self._retry_at.values(), default=None)

    def _fetch(self, rendition: int) -> FetchIndex:
        index = self.presentation.renditions[rendition].index
        assert index is not None  # Presentation guarantees it while unindexed
        request_id = self._next_id()
        self._in_flight[request_id] = rendition
        return FetchIndex(request_id, rendition, index)
