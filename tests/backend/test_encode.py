"""The ladder encode: the HLS and DASH views of a title list the same media."""

from __future__ import annotations

import re
from pathlib import Path

from backend.helpers import make_clip
from backend_stub.media.transcode import TranscodeOptions, transcode


def test_a_title_ending_on_a_segment_boundary_lists_no_audio_past_its_end(
    tmp_path: Path,
) -> None:
    # 8 s in 4 s segments: AAC's last frame ends after the picture, in a segment of its own.
    clip = make_clip(tmp_path / "eight.mp4", seconds=8, size="426x240")
    out = tmp_path / "out"
    transcode(clip, out, TranscodeOptions(preset="ultrafast", thumbnails=False))
    mpd = (out / "manifest.mpd").read_text()
    assert 'mediaPresentationDuration="PT8.0S"' in mpd and 'duration="4000000"' in mpd
    for playlist in sorted(out.glob("media_*.m3u8")):
        text = playlist.read_text()
        listed = re.findall(r"^(r\d+)/seg-(\d+)\.m4s$", text, re.MULTILINE)
        # The two segments the MPD's template names, in every track (hls.js never ended a
        # title whose audio playlist went on past the video's).
        assert [int(number) for _, number in listed] == [1, 2], playlist.name
        durations = [float(d) for d in re.findall(r"^#EXTINF:([0-9.]+),$", text, re.MULTILINE)]
        assert len(durations) == len(listed), playlist.name  # no #EXTINF left without its URI
        assert abs(sum(durations) - 8) < 0.03, playlist.name  # within one AAC frame
