"""Random valid playlists and MPDs: durations and counts survive parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from abr.manifests import parse_dash, parse_hls

durations = st.lists(st.integers(500, 10_000), min_size=1, max_size=40)  # milliseconds


@given(
    durations=durations,
    bandwidths=st.lists(st.integers(50_000, 20_000_000), min_size=1, max_size=6, unique=True),
)
def test_hls_ladders_round_trip(durations: list[int], bandwidths: list[int]) -> None:
    master = "#EXTM3U\n" + "".join(
        f"#EXT-X-STREAM-INF:BANDWIDTH={b},RESOLUTION={160 * (i + 1)}x{90 * (i + 1)}\nr{i}/index.m3u8\n"
        for i, b in enumerate(bandwidths)
    )
    media_text = (
        "#EXTM3U\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXT-X-TARGETDURATION:10\n"
        + "".join(f"#EXTINF:{d / 1000:.3f},\nseg{n}.ts\n" for n, d in enumerate(durations))
        + "#EXT-X-ENDLIST\n"
    )
    base = "https://cdn.test/title/master.m3u8"
    media = {f"https://cdn.test/title/r{i}/index.m3u8": media_text for i in range(len(bandwidths))}
    presentation = parse_hls(master, base, media)
    assert presentation.segment_durations_s == pytest.approx([d / 1000 for d in durations])
    assert [r.bandwidth_bps for r in presentation.renditions] == sorted(bandwidths)
    top = presentation.renditions[-1]
    assert (
        top.segments[-1].url
        == f"https://cdn.test/title/r{bandwidths.index(max(bandwidths))}/seg{len(durations) - 1}.ts"
    )


@given(
    durations=durations,
    timescale=st.sampled_from([1000, 90_000, 1_000_000]),
    start=st.integers(0, 5),
)
def test_dash_timelines_round_trip(durations: list[int], timescale: int, start: int) -> None:
    ticks = [d * timescale // 1000 for d in durations]
    entries = "".join(f'<S d="{t}"/>' for t in ticks)
    mpd = f"""<MPD xmlns="urn:mpeg:dash:schema:mpd:2011" type="static" mediaPresentationDuration="PT{sum(durations) / 1000}S">
      <Period><AdaptationSet contentType="video"><Representation id="a" bandwidth="800000" height="360">
      <SegmentTemplate timescale="{timescale}" startNumber="{start}" media="$RepresentationID$/$Time$-$Number%04d$.m4s">
      <SegmentTimeline><S t="0" d="{ticks[0]}"/>{entries[len(f'<S d="{ticks[0]}"/>') :]}</SegmentTimeline>
      </SegmentTemplate></Representation></AdaptationSet></Period></MPD>"""
    presentation = parse_dash(mpd, "https://cdn.test/d/manifest.mpd")
    assert presentation.segment_count == len(durations)
    assert presentation.segment_durations_s == pytest.approx([t / timescale for t in ticks])
    last = presentation.renditions[0].segments[-1].url
    assert last == f"https://cdn.test/d/a/{sum(ticks[:-1])}-{start + len(ticks) - 1:04d}.m4s"
