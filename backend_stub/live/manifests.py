"""The manifests of a live channel, rendered from its `Timeline`: one HLS media playlist per
track (sliding window, EXT-X-DISCONTINUITY and a new EXT-X-MAP at every encoder restart,
PROGRAM-DATE-TIME) and one dynamic DASH MPD (a Period per encoder run, SegmentTemplate
$Number$ with a SegmentTimeline, UTCTiming); for an encrypted channel, EXT-X-KEY and the
ContentProtection elements a VOD title's Shaka-written MPD carries (mp4protection with the
default KID, the common PSSH, ClearKey with its licence URL)."""

from __future__ import annotations

import copy
import math
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

from backend_stub.live.encrypt import COMMON_SYSTEM_ID, ChannelKey
from backend_stub.live.timeline import Segment, Timeline
from backend_stub.media.encryption import CLEARKEY_SYSTEM, LICENSE_PATH

DASH_NS = "urn:mpeg:dash:schema:mpd:2011"
UTC_TIMING_SCHEME = "urn:mpeg:dash:utc:http-iso:2014"
CENC_NS = "urn:mpeg:cenc:2013"
CLEARKEY_NS = "http://dashif.org/guidelines/clearKey"
MP4_PROTECTION_SCHEME = "urn:mpeg:dash:mp4protection:2011"


def init_name(track: str, run: int) -> str:
    return f"r{track}/init-{run}.m4s"


def segment_name(track: str, number: int) -> str:
    return f"r{track}/seg-{number:06d}.m4s"


def media_playlist_name(track: str) -> str:
    return f"media_{track}.m3u8"


def iso_time(epoch: float) -> str:
    return (
        datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    )


def _duration(seconds: float) -> str:
    return f"PT{seconds:.3f}S"


def hls_media_playlist(tl: Timeline, track: str, key_tag: str | None = None) -> str:
    """key_tag: the EXT-X-KEY of an encrypted channel (one key for every run)."""
    window = tl.window(track)
    assert window and tl.availability_start is not None
    scale = tl.timescales[track]
    target = max(tl.segment_seconds, *(round(s.d / scale) for s in window))
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:7",
        f"#EXT-X-TARGETDURATION:{target}",
        f"#EXT-X-MEDIA-SEQUENCE:{window[0].number}",
        # Every run after the first starts with a discontinuity, so the ones that slid out
        # of the window are the runs before the window's first segment's.
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{window[0].run}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
        *([key_tag] if key_tag else []),
    ]
    previous: Segment | None = None
    for seg in window:
        if previous is None or seg.run != previous.run:
            if previous is not None:
                lines.append("#EXT-X-DISCONTINUITY")
            lines.append(f'#EXT-X-MAP:URI="{init_name(track, seg.run)}"')
            wall = tl.availability_start + tl.presentation_start(track, seg)
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{iso_time(wall)}")
        lines.append(f"#EXTINF:{seg.d / scale:.6f},")
        lines.append(segment_name(track, seg.number))
        previous = seg
    return "\n".join(lines) + "\n"


def _timeline_element(segs: list[Segment]) -> ET.Element:
    timeline = ET.Element("SegmentTimeline")
    run_start = 0
    while run_start < len(segs):
        first = segs[run_start]
        end = run_start + 1
        while (
            end < len(segs)
            and segs[end].d == first.d
            and segs[end].t == segs[end - 1].t + segs[end - 1].d
        ):
            end += 1
        s = ET.SubElement(timeline, "S", t=str(first.t), d=str(first.d))
        if end - run_start > 1:
            s.set("r", str(end - run_start - 1))
        run_start = end
    return timeline


def _protection(key: ChannelKey) -> list[ET.Element]:
    mp4 = ET.Element(
        "ContentProtection",
        {
            "schemeIdUri": MP4_PROTECTION_SCHEME,
            "value": key.scheme,
            "cenc:default_KID": str(uuid.UUID(hex=key.kid)),
        },
    )
    common = ET.Element(
        "ContentProtection", schemeIdUri=f"urn:uuid:{uuid.UUID(bytes=COMMON_SYSTEM_ID)}"
    )
    ET.SubElement(common, "cenc:pssh").text = key.pssh_b64
    # Host-relative, as for titles: the edge proxies /api/ to the origin.
    clearkey = ET.Element("ContentProtection", schemeIdUri=CLEARKEY_SYSTEM, value="ClearKey1.0")
    ET.SubElement(clearkey, "clearkey:Laurl", Lic_type="EME-1.0").text = LICENSE_PATH
    return [mp4, common, clearkey]


def _period(tl: Timeline, ordinal: int, key: ChannelKey | None) -> ET.Element | None:
    run = tl.runs[ordinal]
    period = copy.deepcopy(run.period)
    period.attrib = {"id": f"p{ordinal}", "start": _duration(run.period_start)}
    listed = False
    for aset in period.findall("AdaptationSet"):
        for rep in aset.findall("Representation"):
            track = rep.get("id", "")
            segs = [s for s in tl.window(track) if s.run == ordinal]
            template = rep.find("SegmentTemplate")
            if template is None or not segs:
                aset.remove(rep)
                continue
            listed = True
            template.clear()
            template.attrib = {
                "timescale": str(tl.timescales[track]),
                "presentationTimeOffset": str(run.t0[track]),
                "initialization": f"r$RepresentationID$/init-{ordinal}.m4s",
                "media": "r$RepresentationID$/seg-$Number%06d$.m4s",
                "startNumber": str(segs[0].number),
            }
            template.append(_timeline_element(segs))
        if not aset.findall("Representation"):
            period.remove(aset)
        elif key is not None:
            for i, element in enumerate(_protection(key)):
                aset.insert(i, element)
    return period if listed else None


def dash_mpd(tl: Timeline, now: float, utc_timing_url: str, key: ChannelKey | None = None) -> str:
    assert tl.availability_start is not None
    seg = tl.segment_seconds
    longest = max(
        (s.d / tl.timescales[t] for t, segs in tl.segments.items() for s in segs), default=seg
    )
    mpd = ET.Element(
        "MPD",
        {
            "xmlns": DASH_NS,
            "profiles": "urn:mpeg:dash:profile:isoff-live:2011",
            "type": "dynamic",
            "availabilityStartTime": iso_time(tl.availability_start),
            "publishTime": iso_time(now),
            "minimumUpdatePeriod": _duration(seg),
            "timeShiftBufferDepth": _duration(tl.window_count * seg),
            "suggestedPresentationDelay": _duration(3 * seg),
            "maxSegmentDuration": _duration(math.ceil(longest * 1000) / 1000),
            "minBufferTime": _duration(2 * seg),
        },
    )
    if key is not None:
        mpd.set("xmlns:cenc", CENC_NS)
        mpd.set("xmlns:clearkey", CLEARKEY_NS)
    windowed = sorted({s.run for track in tl.segments for s in tl.window(track)})
    for ordinal in windowed:
        period = _period(tl, ordinal, key)
        if period is not None:
            mpd.append(period)
    ET.SubElement(mpd, "UTCTiming", schemeIdUri=UTC_TIMING_SCHEME, value=utc_timing_url)
    ET.indent(mpd)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(mpd, encoding="unicode") + "\n"
