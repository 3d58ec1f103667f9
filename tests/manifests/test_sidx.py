"""The sidx parser: every well-formed box round-trips; any damaged one is a ManifestError that
names the rendition, never another exception."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abr.manifests import ManifestError, with_indexes
from abr.manifests.sidx import SegmentIndex, SidxReference, parse_sidx
from abr.presentation import Presentation, Rendition, SegmentRef

SOURCE = "https://cdn.test/title/manifest.mpd"

references = st.builds(
    SidxReference,
    size=st.integers(1, 2**31 - 1),
    duration=st.integers(1, 2**32 - 1),
    starts_with_sap=st.booleans(),
    sap_type=st.integers(0, 7),
    sap_delta_time=st.integers(0, 2**28 - 1),
)


@st.composite
def indexes(draw: st.DrawFn) -> SegmentIndex:
    version = draw(st.sampled_from([0, 1]))
    wide = 2**32 - 1 if version == 0 else 2**64 - 1
    refs = tuple(draw(st.lists(references, min_size=1, max_size=40)))
    body = (32 if version == 0 else 40) + 12 * len(refs)
    return SegmentIndex(
        version=version,
        reference_id=draw(st.integers(0, 2**32 - 1)),
        timescale=draw(st.integers(1, 2**32 - 1)),
        earliest_presentation_time=draw(st.integers(0, wide)),
        first_offset=draw(st.integers(0, wide)),
        references=refs,
        end=body,  # the box alone: it ends where the bytes end
    )


def build(index: SegmentIndex, large_size: bool = False) -> bytes:
    """The box ISO/IEC 14496-12 8.16.3 describes, written independently of the parser."""
    wide = "I" if index.version == 0 else "Q"
    body = struct.pack(
        f">B3xII{wide}{wide}HH",
        index.version,
        index.reference_id,
        index.timescale,
        index.earliest_presentation_time,
        index.first_offset,
        0,
        len(index.references),
    )
    for r in index.references:
        sap = (r.starts_with_sap << 31) | (r.sap_type << 28) | r.sap_delta_time
        body += struct.pack(">III", r.size, r.duration, sap)
    if large_size:
        return struct.pack(">I4sQ", 1, b"sidx", len(body) + 16) + body
    return struct.pack(">I4s", len(body) + 8, b"sidx") + body


@given(indexes())
def test_well_formed_boxes_round_trip(index: SegmentIndex) -> None:
    assert parse_sidx(build(index), SOURCE, "v1") == index


@given(indexes(), st.binary(max_size=64))
def test_other_boxes_before_the_sidx_are_skipped(index: SegmentIndex, payload: bytes) -> None:
    free = struct.pack(">I4s", len(payload) + 8, b"free") + payload
    parsed = parse_sidx(free + build(index, large_size=True), SOURCE, "v1")
    assert parsed.references == index.references
    assert parsed.end == len(free) + index.end + 8  # the 64-bit size field


@given(indexes(), st.data())
def test_any_truncation_is_a_manifest_error(index: SegmentIndex, data: st.DataObject) -> None:
    box = build(index)
    cut = data.draw(st.integers(0, len(box) - 1))
    with pytest.raises(ManifestError, match=r"rendition 'v1': segment index: "):
        parse_sidx(box[:cut], SOURCE, "v1")


@given(indexes(), st.data())
def test_any_mutation_is_parsed_or_refused(index: SegmentIndex, data: st.DataObject) -> None:
    box = bytearray(build(index))
    for _ in range(data.draw(st.integers(1, 4))):
        at = data.draw(st.integers(0, len(box) - 1))
        box[at] = data.draw(st.integers(0, 255))
    try:
        parse_sidx(bytes(box), SOURCE, "v1")
    except ManifestError as error:
        assert str(error).startswith(f"{SOURCE}: rendition 'v1': segment index: ")


@given(st.binary(max_size=200))
def test_garbage_is_refused_with_a_manifest_error(data: bytes) -> None:
    try:
        parse_sidx(data, SOURCE, "v1")
    except ManifestError as error:
        assert "rendition 'v1'" in str(error)


def one(size: int = 100, duration: int = 1000) -> SidxReference:
    return SidxReference(size, duration, True, 1, 0)


def box(*refs: SidxReference, version: int = 0, timescale: int = 1000) -> bytes:
    return build(SegmentIndex(version, 1, timescale, 0, 0, refs, 0))


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "no sidx box in the 0 bytes"),
        (struct.pack(">I4s", 16, b"free") + bytes(8), "no sidx box in the 16 bytes"),
        (struct.pack(">I4sQ", 1, b"sidx", 2**64 - 1) + bytes(40), "declares 18446744073709551615"),
        (struct.pack(">I4s", 4, b"sidx"), "declares 4 bytes, less than its header"),
        (box(one())[:-1], "box declares 44 bytes, the index range holds 43"),
        (box(one()).replace(b"sidx\x00", b"sidx\x02"), "sidx version 2 is unknown"),
        (box(one(), timescale=0), "timescale 0"),
        (box(), "no references"),
        (box(one(size=0)), "reference 0 is empty"),
        (box(one(duration=0)), "reference 0 is empty"),
        # A reference count far beyond what the box holds (the field is 16 bits: 65535).
        (box(one())[:30] + b"\xff\xff" + box(one())[32:], "65535 references need"),
        (
            box(one(), SidxReference(2**31 - 1, 1, True, 1, 0))[:44]
            + b"\x80"  # reference_type 1 on the second reference
            + box(one(), SidxReference(2**31 - 1, 1, True, 1, 0))[45:],
            "reference 1 points at a further sidx box",
        ),
    ],
)
def test_hostile_boxes_say_what_is_wrong(data: bytes, reason: str) -> None:
    with pytest.raises(ManifestError, match=reason) as info:
        parse_sidx(data, SOURCE, "v1")
    assert str(info.value).startswith(f"{SOURCE}: rendition 'v1': segment index: ")


def unindexed(*index_ranges: tuple[int, int]) -> Presentation:
    renditions = tuple(
        Rendition(
            f"v{i}",
            100_000 * (i + 1),
            (),
            init=SegmentRef(f"https://cdn.test/title/v{i}.mp4", 800.0, False, (0, 99)),
            index=SegmentRef(f"https://cdn.test/title/v{i}.mp4", 0.0, False, r),
        )
        for i, r in enumerate(index_ranges)
    )
    return Presentation(renditions, (), source=SOURCE)


def test_segments_follow_the_box_at_its_first_offset() -> None:
    presentation = unindexed((100, 155), (100, 167))
    boxes = {0: box(one(500, 2000), one(400, 2000)), 1: box(one(900, 2000), one(800, 1990))}
    full = with_indexes(presentation, boxes)
    assert full.is_indexed and full.segment_durations_s == (2.0, 2.0)
    assert [s.byte_range for s in full.renditions[0].segments] == [(156, 655), (656, 1055)]
    assert [s.size_bits for s in full.renditions[1].segments] == [7200.0, 6400.0]
    assert full.renditions[1].segments[0].url == "https://cdn.test/title/v1.mp4"
    offset = build(SegmentIndex(0, 1, 1000, 0, 44, (one(500, 2000), one(400, 2000)), 0))
    shifted = with_indexes(presentation, {**boxes, 0: offset})
    assert shifted.renditions[0].segments[0].byte_range == (200, 699)


def test_indexes_that_disagree_on_the_timeline_are_refused() -> None:
    presentation = unindexed((100, 143), (100, 167))
    boxes = {0: box(one(500, 6000)), 1: box(one(500, 2000), one(500, 2000), one(500, 2000))}
    with pytest.raises(ManifestError, match="segment count"):
        with_indexes(presentation, boxes)
    with pytest.raises(ManifestError, match="rendition 'v1': its index was not loaded"):
        with_indexes(presentation, {0: boxes[0]})


def test_an_unindexed_presentation_needs_an_index_on_every_rendition() -> None:
    presentation = unindexed((100, 143))
    plain = Rendition("plain", 1, ())
    with pytest.raises(ValueError, match="no segments"):
        Presentation((plain, *presentation.renditions), (), source=SOURCE)
