"""The device cap, applied to a title's manifests as they are served: variants taller than
the device's maximum height are dropped from the HLS master playlist and the DASH MPD."""

from __future__ import annotations

import re

from backend_stub.media.mpd import MPD_NS, mpd_text, parse_mpd

_RES = re.compile(r"RESOLUTION=(\d+)x(\d+)")


def cap_master_playlist(text: str, max_height: int) -> str:
    """Drop variants taller than max_height (the device cap); URIs stay relative."""
    out: list[str] = []
    skip_next = False
    for line in text.splitlines():
        if skip_next:
            skip_next = False
            if line and not line.startswith("#"):
                continue
        m = _RES.search(line) if line.startswith("#EXT-X-STREAM-INF") else None
        if m and int(m.group(2)) > max_height:
            skip_next = True
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def cap_mpd(text: str, max_height: int) -> str:
    """Drop video Representations taller than max_height from a DASH MPD."""
    root = parse_mpd(text)
    for aset in root.iter(f"{{{MPD_NS}}}AdaptationSet"):
        reps = aset.findall(f"{{{MPD_NS}}}Representation")
        kept = [r for r in reps if int(r.get("height", "0")) <= max_height]
        if len(kept) < len(reps) and kept:
            for r in reps:
                if r not in kept:
                    aset.remove(r)
            aset.set("maxHeight", str(max(int(r.get("height", "0")) for r in kept)))
            aset.set("maxWidth", str(max(int(r.get("width", "0")) for r in kept)))
    return mpd_text(root)
