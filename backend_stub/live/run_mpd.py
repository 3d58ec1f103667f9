"""Reading the MPD ffmpeg's dash muxer keeps rewriting for one encoder run: which segments
of each representation are complete, with their media times, and the Period it describes
(used as the template of our own Periods, so codecs, sizes and bandwidths are ffmpeg's)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


@dataclass(frozen=True)
class RunSegment:
    number: int  # ffmpeg's own $Number$ within the run, from 1
    t: int  # media time, in the representation's timescale
    d: int


@dataclass(frozen=True)
class RunTrack:
    rep_id: str
    content_type: str  # video or audio
    timescale: int
    segments: tuple[RunSegment, ...]


@dataclass(frozen=True)
class RunManifest:
    period: ET.Element  # namespace-free copy of ffmpeg's Period
    tracks: tuple[RunTrack, ...]


def strip_namespaces(root: ET.Element) -> ET.Element:
    for el in root.iter():
        el.tag = el.tag.rsplit("}", 1)[-1]
    return root


def parse_run_mpd(text: str) -> RunManifest | None:
    """None while ffmpeg has not written a Period with a timeline yet."""
    root = strip_namespaces(ET.fromstring(text))
    period = root.find("Period")
    if period is None:
        return None
    tracks = []
    for aset in period.iter("AdaptationSet"):
        content = aset.get("contentType", "video")
        for rep in aset.iter("Representation"):
            template = rep.find("SegmentTemplate")
            if template is None:
                continue
            timeline = template.find("SegmentTimeline")
            number = int(template.get("startNumber", "1"))
            segments = []
            t = 0
            for s in timeline.iter("S") if timeline is not None else ():
                t = int(s.get("t", t))
                d = int(s.get("d", "0"))
                for _ in range(int(s.get("r", "0")) + 1):
                    segments.append(RunSegment(number, t, d))
                    number += 1
                    t += d
            tracks.append(
                RunTrack(
                    rep.get("id", ""), content, int(template.get("timescale", "1")), tuple(segments)
                )
            )
    return RunManifest(period, tuple(tracks))
