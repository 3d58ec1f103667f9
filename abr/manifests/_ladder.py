"""What the HLS and DASH parsers share once each rendition is read: one timeline for the ladder."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urljoin

from abr.manifests.errors import ManifestError
from abr.presentation import STATIC, MediaTrack, Presentation, Rendition, SegmentRef, Timeline

# A bound on what a manifest may ask us to build: a hostile `r="999999999"` or a 1 ms template
# over a 100 h title must fail fast instead of eating the memory. 200k segments is 55 h at 1 s.
MAX_SEGMENTS = 200_000

# No real segment lasts a day; refusing absurd ones keeps sums and sizes finite.
MAX_SEGMENT_S = 86_400.0

# No rendition streams 1 Tbit/s: refusing more keeps bandwidth x duration and every size built
# from it finite (a BANDWIDTH of 1 followed by 400 zeros does not even convert to a float).
MAX_BANDWIDTH_BPS = 10**12
MAX_SEGMENT_BITS = MAX_BANDWIDTH_BPS * MAX_SEGMENT_S

# Byte offsets past 2^63 are beyond any file, and beyond what HTTP servers parse in a Range.
MAX_BYTE_OFFSET = 2**63 - 1

# Renditions must switch at the same media times for a shared timeline to mean anything. Muxers
# round segment durations differently per rung (a frame here and there), so only gross
# misalignment, e.g. GOPs that are not aligned across the ladder, is refused.
ALIGN_TOLERANCE_S = 0.5


# A relative path made of RFC 3986 unreserved characters, most sub-delims, "%" and "@", then
# also "/". Not: ":" (a scheme), ";" (urljoin splits path parameters), "?" and "#" (urljoin
# normalises empty ones away), whitespace and controls (it strips them), "/" or "." first.
_PLAIN = re.compile(r"[\w~%!$&'()*+,=@-][\w.~%!$&'()*+,=@/-]*", re.ASCII)


def integer_text(number: int) -> str:
    """An integer for a message: as written when short, else its digit count (str() itself
    refuses ints of over 4300 digits)."""
    if number.bit_length() <= 64:
        return str(number)
    return f"{'-' if number < 0 else ''}(an integer of {int(number.bit_length() * 0.30103) + 1} digits)"


class Resolver:
    """`urljoin(base, ref)`, with a fast path for the plain relative names segments have.

    urljoin parses both URLs on every call, a third of the time spent on a long playlist. A plain
    relative path (see _PLAIN) resolves to the base's directory plus the path; anything else,
    or a base that urljoin does not treat as hierarchical, goes the slow way. Checked against
    urljoin itself in tests/manifests/test_properties.py.
    """

    def __init__(self, base: str) -> None:
        self.base = base
        self.directory = urljoin(base, ".")
        # Schemes urljoin does not know (s3:, data:...) are left to urljoin itself.
        self.fast = urljoin(base, "probe") == self.directory + "probe"

    def __call__(self, ref: str) -> str:
        # "/." would be a dot segment, "//" an empty one: urljoin rewrites both.
        if self.fast and _PLAIN.fullmatch(ref) and "/." not in ref and "//" not in ref:
            return self.directory + ref
        return urljoin(self.base, ref)


def segment(
    url: str | None, duration_s: float, bandwidth_bps: int, byte_range: tuple[int, int] | None
) -> SegmentRef:
    """A segment whose size is its byte range if known, else bandwidth x duration (flagged)."""
    if byte_range is not None:
        return SegmentRef(url, (byte_range[1] - byte_range[0] + 1) * 8.0, False, byte_range)
    return SegmentRef(url, bandwidth_bps * duration_s, True, None)


def with_segments(rendition: Rendition, segments: tuple[SegmentRef, ...]) -> Rendition:
    # Spelled out rather than dataclasses.replace: Rendition may be a mypyc-compiled class.
    return Rendition(
        rendition.id,
        rendition.bandwidth_bps,
        segments,
        rendition.width,
        rendition.height,
        rendition.codecs,
        rendition.frame_rate,
        rendition.init,
        rendition.index,
    )


def common_count(counts: Sequence[int], source: str) -> int:
    """The segment count every rendition keeps: the smallest, if the others have at most one more.

    Muxers sometimes close one rung's last GOP into an extra, very short segment; dropping that
    sliver loses a fraction of a second at the very end. Any larger difference means the
    renditions do not share a timeline, and that is an error.
    """
    low, high = min(counts), max(counts)
    if high - low > 1:
        raise ManifestError(
            source, f"renditions disagree on the segment count ({low} to {high}): not one timeline"
        )
    return low


def assemble(
    parsed: Sequence[tuple[Rendition, Sequence[float]]],
    source: str,
    audio: Sequence[MediaTrack] = (),
    subtitles: Sequence[MediaTrack] = (),
    live: Timeline = STATIC,
) -> Presentation:
    """Truncate to the common count, check alignment, sort by bandwidth, build the Presentation.

    `parsed` pairs each rendition with its own segment durations. The timeline is taken from the
    first rendition that has exactly the common count (so it does not include a dropped sliver).
    """
    renditions, timeline = align(parsed, source)
    try:
        return Presentation(
            tuple(renditions),
            tuple(timeline),
            tuple(audio),
            tuple(subtitles),
            source=source,
            timeline=live,
        )
    except ValueError as exc:  # the model's own checks; keep "only ManifestError" true
        raise ManifestError(source, str(exc).removeprefix(f"{source}: ")) from exc


def align(
    parsed: Sequence[tuple[Rendition, Sequence[float]]], source: str
) -> tuple[list[Rendition], Sequence[float]]:
    """`assemble` without building the Presentation: the renditions, sorted by bandwidth and
    truncated to the common count, and the timeline's durations."""
    count = common_count([len(d) for _, d in parsed], source)
    for rendition, durations in parsed:
        for i, d in enumerate(durations):
            if not 0 < d <= MAX_SEGMENT_S:  # also catches NaN
                raise ManifestError(
                    source, f"rendition {rendition.id!r}: segment {i} lasts {d:g} s"
                )
    reference, timeline = next((r, d) for r, d in parsed if len(d) == count)
    reference_starts = _starts(timeline)
    renditions = []
    for rendition, durations in parsed:
        for i, (mine, theirs) in enumerate(
            zip(_starts(durations[:count]), reference_starts, strict=True)
        ):
            if abs(mine - theirs) > ALIGN_TOLERANCE_S:
                raise ManifestError(
                    source,
                    f"rendition {rendition.id!r} is not aligned with {reference.id!r}: segment {i} "
                    f"starts at {mine:.3f} s, not {theirs:.3f} s",
                )
        if len(rendition.segments) != count:
            rendition = with_segments(rendition, rendition.segments[:count])
        renditions.append(rendition)
    renditions.sort(key=lambda r: r.bandwidth_bps)  # stable: equal bandwidths keep their order
    return renditions, timeline


def _starts(durations: Sequence[float]) -> list[float]:
    starts, t = [], 0.0
    for d in durations:
        starts.append(t)
        t += d
    return starts
