"""WebVTT subtitle tracks added to an encoded title: the files under `subs/`, an HLS
SUBTITLES group in the master playlist and a text AdaptationSet in the MPD."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

from backend_stub.media.mpd import MPD_NS, mpd_text, parse_mpd


def add_subtitles(
    out: Path, tracks: list[tuple[str, Path]], duration: float
) -> list[dict[str, str]]:
    """Add WebVTT tracks to both manifests: HLS gets an EXT-X-MEDIA SUBTITLES group (one
    media playlist per language wrapping the whole .vtt), DASH a text AdaptationSet."""
    if not tracks:
        return []
    subs = out / "subs"
    subs.mkdir(exist_ok=True)
    result = []
    media_lines = []
    for i, (lang, src) in enumerate(tracks):
        (subs / f"{lang}.vtt").write_bytes(src.read_bytes())
        (subs / f"{lang}.m3u8").write_text(
            "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n"
            f"#EXT-X-TARGETDURATION:{math.ceil(duration)}\n#EXT-X-MEDIA-SEQUENCE:0\n"
            f"#EXTINF:{duration:.3f},\n{lang}.vtt\n#EXT-X-ENDLIST\n"
        )
        media_lines.append(
            f'#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="{lang}",LANGUAGE="{lang}",'
            f'DEFAULT={"YES" if i == 0 else "NO"},AUTOSELECT=YES,URI="subs/{lang}.m3u8"'
        )
        result.append(
            {"language": lang, "path": f"subs/{lang}.vtt", "playlist": f"subs/{lang}.m3u8"}
        )
    master = out / "master.m3u8"
    lines = master.read_text().splitlines()
    at = max((k for k, ln in enumerate(lines) if ln.startswith("#EXT-X-MEDIA")), default=1) + 1
    lines[at:at] = media_lines
    lines = [ln + ',SUBTITLES="subs"' if ln.startswith("#EXT-X-STREAM-INF") else ln for ln in lines]
    master.write_text("\n".join(lines) + "\n")

    mpd = out / "manifest.mpd"
    root = parse_mpd(mpd.read_text())
    period = root.find(f"{{{MPD_NS}}}Period")
    assert period is not None
    next_id = len(period.findall(f"{{{MPD_NS}}}AdaptationSet"))
    for k, (lang, _src) in enumerate(tracks):
        aset = ET.SubElement(
            period,
            f"{{{MPD_NS}}}AdaptationSet",
            {"id": str(next_id + k), "contentType": "text", "mimeType": "text/vtt", "lang": lang},
        )
        rep = ET.SubElement(
            aset, f"{{{MPD_NS}}}Representation", {"id": f"sub-{lang}", "bandwidth": "256"}
        )
        ET.SubElement(rep, f"{{{MPD_NS}}}BaseURL").text = f"subs/{lang}.vtt"
    mpd.write_text(mpd_text(root))
    return result
