"""DASH SegmentBase renditions, once their sidx boxes are read: segments from the index.

`parse_dash` returns an unindexed presentation for an on-demand MPD (one file per rendition,
`Rendition.index` giving the byte range of its sidx); the driver fetches those ranges and
`with_indexes` builds the presentation the session plays. Pure: bytes in, Presentation out.
"""

from __future__ import annotations

from collections.abc import Mapping

from abr.manifests._ladder import MAX_BYTE_OFFSET, assemble, segment, with_segments
from abr.manifests.errors import ManifestError
from abr.manifests.sidx import parse_sidx
from abr.presentation import Presentation, Rendition


def with_indexes(presentation: Presentation, boxes: Mapping[int, bytes]) -> Presentation:
    """The full presentation: `boxes[i]` holds the bytes of rendition i's `index` range."""
    source = presentation.source
    parsed = []
    for i, rendition in enumerate(presentation.renditions):
        if i not in boxes:
            raise ManifestError(source, f"rendition {rendition.id!r}: its index was not loaded")
        parsed.append(indexed_rendition(rendition, boxes[i], source))
    return assemble(parsed, source, presentation.audio_tracks, presentation.subtitle_tracks)


def indexed_rendition(
    rendition: Rendition, data: bytes, source: str
) -> tuple[Rendition, list[float]]:
    """`rendition` with its segments (exact byte ranges of its one file), and their durations."""
    ref = rendition.index
    if ref is None or ref.byte_range is None:
        raise ManifestError(source, f"rendition {rendition.id!r} has no segment index to read")
    index = parse_sidx(data, source, rendition.id)
    # Offsets count from the anchor, the first byte after the sidx box in the file.
    first = ref.byte_range[0] + index.end + index.first_offset
    segments = []
    durations = []
    for i, reference in enumerate(index.references):
        last = first + reference.size - 1
        if last > MAX_BYTE_OFFSET:
            raise ManifestError(
                source,
                f"rendition {rendition.id!r}: segment index: reference {i} ends beyond any file",
            )
        duration = reference.duration / index.timescale
        segments.append(segment(ref.url, duration, rendition.bandwidth_bps, (first, last)))
        durations.append(duration)
        first = last + 1
    return with_segments(rendition, tuple(segments)), durations
