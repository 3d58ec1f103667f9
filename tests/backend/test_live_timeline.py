"""The live timeline and its manifests across any sequence of encoder runs (no processes)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from hypothesis import given
from hypothesis import strategies as st

from backend_stub.live.manifests import dash_mpd, hls_media_playlist
from backend_stub.live.timeline import Timeline

SCALE = 12800
PERIOD = ET.fromstring(
    '<Period><AdaptationSet contentType="video"><Representation id="0" height="240">'
    '<SegmentTemplate timescale="12800"/></Representation></AdaptationSet></Period>'
)


@given(
    runs=st.lists(st.integers(1, 12), min_size=1, max_size=6),
    dvr=st.integers(6, 20),
    gap=st.floats(0, 10),
)
def test_numbers_grow_and_every_restart_is_one_discontinuity(
    runs: list[int], dvr: int, gap: float
) -> None:
    tl = Timeline(segment_seconds=2, dvr_seconds=dvr)
    now = 1_000_000.0
    published: list[int] = []
    for count in runs:
        now += gap
        run = None
        for k in range(1, count + 1):
            now += 2
            if run is None:
                run = tl.start_run(PERIOD, now, 2)
            seg = tl.add("0", "video", SCALE, run, k, (k - 1) * 2 * SCALE, 2 * SCALE)
            published.append(seg.number)
            tl.prune()
    assert published == list(range(1, len(published) + 1))
    window = tl.window("0")
    assert [s.number for s in window] == published[-len(window) :]
    assert len(window) == min(tl.window_count, len(published))
    assert len(tl.segments["0"]) <= 2 * tl.window_count + 1
    text = hls_media_playlist(tl, "0")
    assert f"#EXT-X-MEDIA-SEQUENCE:{window[0].number}\n" in text
    assert f"#EXT-X-DISCONTINUITY-SEQUENCE:{window[0].run}\n" in text
    runs_listed = sorted({s.run for s in window})
    assert text.count("#EXT-X-DISCONTINUITY\n") == len(runs_listed) - 1
    assert text.count("#EXT-X-MAP:") == len(runs_listed)
    assert [int(n) for n in re.findall(r"seg-(\d+)", text)] == [s.number for s in window]
    mpd = ET.fromstring(dash_mpd(tl, now, "http://127.0.0.1/api/v1/time"))
    periods = mpd.findall("{urn:mpeg:dash:schema:mpd:2011}Period")
    assert [p.get("id") for p in periods] == [f"p{r}" for r in runs_listed]
    starts = [float(p.get("start", "")[2:-1]) for p in periods]
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
