"""Several Periods and dynamic (live) MPDs: what a live session will be driven by."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abr.manifests import ManifestError, parse_dash

MPD_URL = "http://cdn.test/live/manifest.mpd"

TWO_PERIODS = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT10S">
  <Period id="ad" duration="PT4S"><AdaptationSet contentType="video">
    <SegmentTemplate timescale="1000" duration="2000" media="ad/$RepresentationID$-$Number$.m4s"
      initialization="ad/$RepresentationID$-init.m4s"/>
    <Representation id="lo" bandwidth="300000"/><Representation id="hi" bandwidth="900000"/>
  </AdaptationSet></Period>
  <Period id="main"><AdaptationSet contentType="video">
    <SegmentTemplate timescale="1000" duration="3000" media="main/$RepresentationID$-$Number$.m4s"
      initialization="main/$RepresentationID$-init.m4s"/>
    <Representation id="b" bandwidth="1200000"/><Representation id="a" bandwidth="400000"/>
  </AdaptationSet></Period>
</MPD>"""


def names(refs: object) -> list[str]:
    return [s.url.rsplit("/live/", 1)[1] for s in refs]  # type: ignore[attr-defined]


def test_periods_play_in_sequence_each_with_its_own_init() -> None:
    p = parse_dash(TWO_PERIODS, MPD_URL)
    # Period "main" starts where "ad" ends (4 s) and lasts the rest of the 10 s.
    assert p.segment_durations_s == (2.0, 2.0, 3.0, 3.0)
    low, high = p.renditions
    assert names(low.segments) == ["ad/lo-1.m4s", "ad/lo-2.m4s", "main/a-1.m4s", "main/a-2.m4s"]
    assert names(high.segments)[2:] == ["main/b-1.m4s", "main/b-2.m4s"]  # rungs by bandwidth
    assert low.init is not None and low.init.url == MPD_URL.replace(
        "manifest.mpd", "ad/lo-init.m4s"
    )
    assert [s.init for s in low.segments[:2]] == [None, None]
    assert {s.init.url for s in low.segments[2:] if s.init} == {
        MPD_URL.replace("manifest.mpd", "main/a-init.m4s")
    }
    t = p.timeline
    assert not t.live and t.ended
    assert [(x.id, x.first_segment, x.start_s) for x in t.periods] == [
        ("ad", 0, 0.0),
        ("main", 2, 4.0),
    ]
    assert t.discontinuities == (2,)


# Shaka's real output for a show and an ad packaged apart: the ad's 240p measured above its 360p.
SIZED_PERIODS = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT8S">
  <Period id="show" duration="PT4S"><AdaptationSet contentType="video">
    <SegmentTemplate timescale="1000" duration="2000" media="show/$RepresentationID$-$Number$.m4s"/>
    <Representation id="s240" bandwidth="250000" width="426" height="240"/>
    <Representation id="s360" bandwidth="600000" width="640" height="360"/>
    <Representation id="s720" bandwidth="2000000" width="1280" height="720"/>
  </AdaptationSet></Period>
  <Period id="ad" duration="PT4S"><AdaptationSet contentType="video">
    <SegmentTemplate timescale="1000" duration="2000" media="ad/$RepresentationID$-$Number$.m4s"/>
    <Representation id="a720" bandwidth="1900000" width="1280" height="720"/>
    <Representation id="a360" bandwidth="500000" width="640" height="360"/>
    <Representation id="a240" bandwidth="540000" width="426" height="240"/>
  </AdaptationSet></Period>
</MPD>"""


def test_later_period_rungs_pair_by_resolution_when_bandwidths_order_them_otherwise() -> None:
    p = parse_dash(SIZED_PERIODS, MPD_URL)
    ladder = {r.id: names(r.segments)[2:] for r in p.renditions}
    assert ladder == {
        "s240": ["ad/a240-1.m4s", "ad/a240-2.m4s"],
        "s360": ["ad/a360-1.m4s", "ad/a360-2.m4s"],
        "s720": ["ad/a720-1.m4s", "ad/a720-2.m4s"],
    }


def test_later_period_rungs_pair_in_bandwidth_order_when_a_height_is_missing() -> None:
    text = SIZED_PERIODS.replace(
        '"a360" bandwidth="500000" width="640" height="360"', '"a360" bandwidth="500000"'
    )
    p = parse_dash(text, MPD_URL)
    # Without the ad's 360p height, the ad's rungs go by bandwidth: 360p, 240p, 720p.
    assert [names(r.segments)[2] for r in p.renditions] == [
        "ad/a360-1.m4s",
        "ad/a240-1.m4s",
        "ad/a720-1.m4s",
    ]


def test_periods_with_different_ladders_are_refused_by_name() -> None:
    text = TWO_PERIODS.replace('<Representation id="a" bandwidth="400000"/>', "")
    with pytest.raises(
        ManifestError, match="Period 'main' has 1 video Representations, Period 'ad' 2"
    ):
        parse_dash(text, MPD_URL)


def test_a_period_without_start_after_one_without_duration_is_refused() -> None:
    text = TWO_PERIODS.replace(' duration="PT4S"', "")
    with pytest.raises(ManifestError, match="Period 'main': no @start, and the Period before"):
        parse_dash(text, MPD_URL)


LIVE = """<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="dynamic"
  availabilityStartTime="2026-01-01T00:00:00Z" publishTime="2026-01-01T00:01:00Z"
  minimumUpdatePeriod="PT2S" timeShiftBufferDepth="PT10S" suggestedPresentationDelay="PT6S">
  <Period id="p0" start="PT0S"><AdaptationSet contentType="video">
    {template}
    <Representation id="v" bandwidth="500000"/>
  </AdaptationSet></Period>
  <UTCTiming schemeIdUri="urn:mpeg:dash:utc:http-iso:2014" value="https://time.test/now"/>
</MPD>"""
AST = 1767225600.0  # 2026-01-01T00:00:00Z
NUMBER = '<SegmentTemplate timescale="1000" duration="2000" startNumber="10" media="$Number$.m4s"/>'


def test_a_dynamic_number_template_gives_the_window_available_now() -> None:
    # At AST + 61 s, segments ending at 52..60 s are in the 10 s window: numbers 35..39.
    p = parse_dash(LIVE.format(template=NUMBER), MPD_URL, now_utc_s=AST + 61)
    t = p.timeline
    assert t.live and not t.ended
    assert names(p.renditions[0].segments) == ["35.m4s", "36.m4s", "37.m4s", "38.m4s", "39.m4s"]
    assert t.first_number == 35 and t.start_s == 50.0
    assert t.available_at_utc_s == tuple(AST + e for e in (52.0, 54.0, 56.0, 58.0, 60.0))
    assert (t.window_s, t.refresh_s, t.suggested_delay_s) == (10.0, 2.0, 6.0)
    assert t.availability_start_utc_s == AST
    assert [(u.scheme, u.value) for u in t.utc_timing] == [
        ("urn:mpeg:dash:utc:http-iso:2014", "https://time.test/now")
    ]
    # Without now_utc_s the publishTime (AST + 60 s) decides: segments ending in (50, 60].
    assert parse_dash(LIVE.format(template=NUMBER), MPD_URL).timeline.first_number == 35


def test_availability_time_offset_serves_segments_earlier() -> None:
    template = NUMBER.replace("/>", ' availabilityTimeOffset="1.5"/>')
    p = parse_dash(LIVE.format(template=template), MPD_URL, now_utc_s=AST + 60.5)
    assert names(p.renditions[0].segments)[-1] == "40.m4s"  # ends at 62 s, served from 60.5 s
    assert p.timeline.available_at_utc_s is not None
    assert p.timeline.available_at_utc_s[-1] == AST + 60.5


def test_a_dynamic_timeline_with_an_open_repeat_stops_at_now() -> None:
    template = (
        '<SegmentTemplate timescale="90000" presentationTimeOffset="900000" media="$Time$.m4s">'
        '<SegmentTimeline><S t="900000" d="180000" r="-1"/></SegmentTimeline></SegmentTemplate>'
    )
    p = parse_dash(LIVE.format(template=template), MPD_URL, now_utc_s=AST + 61)
    times = [int(n.removesuffix(".m4s")) for n in names(p.renditions[0].segments)]
    assert times == [900000 + k * 180000 for k in range(25, 30)]  # ends at 52..60 s
    assert p.timeline.start_s == 50.0


def test_a_huge_repeat_in_a_live_mpd_builds_only_the_window() -> None:
    template = (
        '<SegmentTemplate timescale="1000" media="$Number$.m4s"><SegmentTimeline>'
        '<S t="0" d="1" r="1000000000000"/></SegmentTimeline></SegmentTemplate>'
    )
    p = parse_dash(LIVE.format(template=template), MPD_URL, now_utc_s=AST + 61)
    assert p.segment_count == 10_000  # 10 s of 1 ms segments
    assert p.timeline.first_number == 1 + 51_000


def test_a_live_window_beyond_the_bound_keeps_the_live_edge() -> None:
    text = LIVE.format(template=NUMBER.replace('duration="2000"', 'duration="1"')).replace(
        'timeShiftBufferDepth="PT10S"', 'timeShiftBufferDepth="PT1H"'
    )
    p = parse_dash(text, MPD_URL, now_utc_s=AST + 3600)
    assert p.segment_count == 200_000
    assert names(p.renditions[0].segments)[-1] == f"{10 + 3_600_000 - 1}.m4s"


def test_a_dynamic_mpd_with_a_duration_and_no_updates_has_ended() -> None:
    text = LIVE.format(template=NUMBER).replace(
        'minimumUpdatePeriod="PT2S"', 'mediaPresentationDuration="PT60S"'
    )
    t = parse_dash(text, MPD_URL, now_utc_s=AST + 61).timeline
    assert t.live and t.ended and t.refresh_s is None


def test_a_period_added_on_refresh_continues_the_ladder() -> None:
    second = (
        '<Period id="p1" start="PT60S"><AdaptationSet contentType="video">'
        '<SegmentTemplate timescale="1000" duration="2000" media="p1-$Number$.m4s"/>'
        '<Representation id="v" bandwidth="500000"/></AdaptationSet></Period>'
    )
    text = LIVE.format(template=NUMBER).replace("<UTCTiming", second + "<UTCTiming")
    before = parse_dash(text, MPD_URL, now_utc_s=AST + 59)  # p1 has not started
    assert [x.id for x in before.timeline.periods] == ["p0"]
    after = parse_dash(text, MPD_URL, now_utc_s=AST + 64)
    assert names(after.renditions[0].segments)[-2:] == ["p1-1.m4s", "p1-2.m4s"]
    assert [(x.id, x.start_s) for x in after.timeline.periods] == [("p0", 0.0), ("p1", 60.0)]
    assert after.timeline.discontinuities == (after.segment_count - 2,)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        (('availabilityStartTime="2026-01-01T00:00:00Z"', ""), "availabilityStartTime: a dynamic"),
        (
            ("2026-01-01T00:00:00Z", "yesterday"),
            "availabilityStartTime: 'yesterday' is not an xs:dateTime",
        ),
        (
            ('timeShiftBufferDepth="PT10S"', 'timeShiftBufferDepth="soon"'),
            "timeShiftBufferDepth: bad ISO",
        ),
        (
            ('minimumUpdatePeriod="PT2S"', 'minimumUpdatePeriod="P1Y"'),
            "minimumUpdatePeriod: duration",
        ),
        (('start="PT0S"', 'start="-PT5S"'), "Period 'p0' @start: bad ISO"),
        (
            ('media="$Number$.m4s"/>', 'media="$Number$.m4s" availabilityTimeOffset="-3"/>'),
            "availabilityTimeOffset -3",
        ),
        (('startNumber="10"', 'startNumber="-1"'), "@startNumber -1 is out of range"),
        (("2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"), "no segment is available yet"),
    ],
)
def test_malformed_live_mpds_name_the_field(change: tuple[str, str], reason: str) -> None:
    with pytest.raises(ManifestError, match=reason) as info:
        parse_dash(LIVE.format(template=NUMBER).replace(*change), MPD_URL, now_utc_s=AST + 61)
    assert str(info.value).startswith(MPD_URL)


@pytest.mark.parametrize(
    ("entries", "reason"),
    [
        ('<S t="0" d="2000"/><S t="1000" d="2000"/>', "S 1: t=1000 overlaps"),
        ('<S t="-2000" d="2000"/>', "S 0: @t -2000 is out of range"),
        ('<S t="0" d="2000" r="-2"/>', "S 0: r=-2"),
    ],
)
def test_bad_live_segment_timelines(entries: str, reason: str) -> None:
    template = f'<SegmentTemplate timescale="1000" media="$Time$.m4s"><SegmentTimeline>{entries}</SegmentTimeline></SegmentTemplate>'
    with pytest.raises(ManifestError, match=reason):
        parse_dash(LIVE.format(template=template), MPD_URL, now_utc_s=AST + 61)


RUN = st.tuples(st.integers(0, 5000), st.integers(1, 4000), st.integers(0, 6))


@given(st.lists(RUN, min_size=1, max_size=8), st.floats(0, 80), st.floats(1, 40))
def test_any_segment_timeline_is_contiguous_and_repeats_expand_to_the_explicit_list(
    runs: list[tuple[int, int, int]], now: float, depth: float
) -> None:
    """For any timeline (gaps before an S@t included), @r gives the same segments as writing
    every S out, their times follow on without a gap, and a live window holds exactly the
    segments whose end is within it."""
    compact, explicit, t = [], [], 0
    for gap, d, r in runs:
        t += gap
        compact.append(f'<S t="{t}" d="{d}" r="{r}"/>')
        explicit += [f'<S t="{t + k * d}" d="{d}"/>' for k in range(r + 1)]
        t += (r + 1) * d
    template = '<SegmentTemplate timescale="1000" media="$Time$.m4s"><SegmentTimeline>{}</SegmentTimeline></SegmentTemplate>'
    text = LIVE.format(template=template).replace("PT10S", f"PT{depth}S")
    results = []
    for entries in (compact, explicit):
        try:
            p = parse_dash(text.format("".join(entries)), MPD_URL, now_utc_s=AST + now)
        except ManifestError as exc:
            assert "no segment is available" in str(exc)
            results.append(None)
            continue
        starts = [int(n.removesuffix(".m4s")) / 1000 for n in names(p.renditions[0].segments)]
        positions = [p.timeline.start_s + p.segment_start_s(i) for i in range(p.segment_count)]
        assert positions == pytest.approx(starts)  # contiguous: each starts where the last ended
        ends = [s + d for s, d in zip(starts, p.segment_durations_s, strict=True)]
        assert all(now - depth - 1e-6 < e <= now + 1e-6 for e in ends[:-1])
        results.append((starts, p.segment_durations_s))
    assert results[0] == results[1]


@given(
    timescale=st.sampled_from([1000, 90000]),
    duration_ms=st.integers(100, 10_000),
    start_number=st.integers(0, 10**6),
    period_start_s=st.integers(0, 100),
    early=st.sampled_from([0.0, 0.25, 0.5, 0.75]),  # availabilityTimeOffset / duration
    now_s=st.floats(0, 5000),
    depth_s=st.integers(1, 300),
)
def test_number_template_numbers_and_times_round_trip_and_nothing_is_early(
    timescale: int,
    duration_ms: int,
    start_number: int,
    period_start_s: int,
    early: float,
    now_s: float,
    depth_s: int,
) -> None:
    """$Number$ with @duration: the number in each URL is first_number + its index, its media
    time is (number - startNumber) x duration, every listed segment is available at `now`, and
    the next one is not yet (the live window never offers a segment early, nor hides the newest)."""
    duration_s = duration_ms / 1000
    offset_s = early * duration_s  # low-latency DASH: served as its chunks are made
    template = (
        f'<SegmentTemplate timescale="{timescale}" duration="{duration_ms * timescale // 1000}" '
        f'startNumber="{start_number}" availabilityTimeOffset="{offset_s}" media="$Number$.m4s"/>'
    )
    text = (
        LIVE.format(template=template)
        .replace('timeShiftBufferDepth="PT10S"', f'timeShiftBufferDepth="PT{depth_s}S"')
        .replace('start="PT0S"', f'start="PT{period_start_s}S"')
    )
    now = AST + now_s
    # Segment k (from 0) of the Period is available from its end, availabilityTimeOffset early.
    out = math.floor((now_s - period_start_s + offset_s) / duration_s + 1e-9)  # how many are
    try:
        p = parse_dash(text, MPD_URL, now_utc_s=now)
    except ManifestError as exc:
        assert "no segment is available" in str(exc)
        newest_end = period_start_s + out * duration_s
        assert out <= 0 or newest_end <= now_s - depth_s + 1e-6  # none out, or all behind
        return
    t = p.timeline
    numbers = [int(n.removesuffix(".m4s")) for n in names(p.renditions[0].segments)]
    assert numbers == list(range(t.first_number, t.first_number + p.segment_count))
    assert numbers[-1] == start_number + out - 1  # the newest one out is listed
    for i, number in enumerate(numbers):
        media_s = (number - start_number) * duration_s  # from the Period's start
        assert t.start_s + p.segment_start_s(i) == pytest.approx(period_start_s + media_s)
    assert t.available_at_utc_s is not None
    assert all(a <= now + 1e-6 for a in t.available_at_utc_s)
