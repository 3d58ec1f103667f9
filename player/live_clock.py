"""Where a live presentation's clock comes from: the server's UTC time, mapped onto ours.

A live DASH MPD names segments by when they become available (availabilityStartTime plus
their position); a client whose clock is a few seconds off asks for segments that do not
exist yet (404s) or joins further behind than it means to. DASH's UTCTiming elements say where
to read the server's time; this module reads the first one that answers:
- http-iso / http-xsdate: GET the URL, the body is an ISO 8601 / xs:dateTime instant;
- http-head: HEAD the URL, its `Date` header (whole seconds only, so tried after the others);
- direct: the value itself is the instant (as of when the MPD was made).
Without any (HLS, or an MPD with none), a fallback URL answering like http-iso (the backend's
`/api/v1/time`) when the caller has one, else the system clock.

The result is an offset from the caller's monotonic clock: `utc = clock() + offset_s`. A
fetched instant is taken to be the midpoint of the request, which halves the error of a slow
round trip.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime

import httpx

from abr.presentation import UtcTiming

log = logging.getLogger(__name__)

_SCHEME_PREFIX = "urn:mpeg:dash:utc:"
# Tried in this order: a body's instant has sub-second precision, a Date header does not.
_ORDER = ("http-iso", "http-xsdate", "direct", "http-head")


class ClockError(ValueError):
    """A time source answered with something that is not a time; the message says which."""


@dataclass(frozen=True)
class ClockSync:
    offset_s: float  # utc = clock() + offset_s, clock() being the caller's monotonic clock
    source: str  # the URL it came from, "direct" or "system clock"


def parse_instant(text: str, source: str) -> float:
    """Epoch seconds of an ISO 8601 / xs:dateTime instant ("2026-12-04T10:00:00.25Z");
    ClockError naming `source` when it is not one, or has no time zone."""
    value = text.strip()
    try:
        instant = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ClockError(f"{source}: not an ISO 8601 time: {value[:60]!r}") from exc
    if instant.tzinfo is None:
        raise ClockError(f"{source}: the time {value[:60]!r} has no time zone")
    return instant.timestamp()


def _scheme(timing: UtcTiming) -> str | None:
    if not timing.scheme.startswith(_SCHEME_PREFIX):
        return None
    name = timing.scheme[len(_SCHEME_PREFIX) :].split(":")[0]
    return name if name in _ORDER else None


async def _read(
    client: httpx.AsyncClient, scheme: str, url: str, clock: Callable[[], float]
) -> float:
    """The offset a fetched time source gives; httpx.HTTPError or ClockError when it fails."""
    sent = clock()
    response = await client.request("HEAD" if scheme == "http-head" else "GET", url)
    received = clock()
    response.raise_for_status()
    if scheme == "http-head":
        header = response.headers.get("date")
        if header is None:
            raise ClockError(f"{url}: no Date header")
        try:
            utc = parsedate_to_datetime(header).timestamp()
        except (TypeError, ValueError) as exc:
            raise ClockError(f"{url}: not an HTTP date: {header[:60]!r}") from exc
    else:
        utc = parse_instant(response.text, url)
    return utc - (sent + received) / 2


async def sync_clock(
    client: httpx.AsyncClient,
    timings: Sequence[UtcTiming],
    fallback_url: str | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ClockSync:
    """The offset from `clock` to UTC, from the first source that answers (see the module
    docstring); never fails: a source that does not answer is logged and the next one tried."""
    usable = [(s, t.value) for t in timings if (s := _scheme(t)) is not None]
    usable.sort(key=lambda pair: _ORDER.index(pair[0]))
    if not usable and fallback_url is not None:
        usable = [("http-iso", fallback_url)]
    for scheme, value in usable:
        if scheme == "direct":
            try:
                return ClockSync(parse_instant(value, "UTCTiming direct") - clock(), "direct")
            except ClockError as exc:
                log.warning("clock sync: %s", exc)
                continue
        for url in value.split():  # the value may list several mirrors
            try:
                return ClockSync(await _read(client, scheme, url, clock), url)
            except ClockError as exc:
                log.warning("clock sync: %s", exc)
            except httpx.HTTPError as exc:
                log.warning("clock sync: %s: %s", url, exc)
    return ClockSync(time.time() - clock(), "system clock")
