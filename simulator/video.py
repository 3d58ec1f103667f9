"""Load a video description file (Sabre-style JSON) into a Presentation."""

from __future__ import annotations

import json
from pathlib import Path

from abr.manifests import ManifestError, parse_sabre_video
from abr.presentation import Presentation


def load_video(path: str | Path) -> Presentation:
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as exc:
        raise ManifestError(str(path), f"cannot read: {exc.strerror}") from exc
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ManifestError(str(path), f"not JSON ({exc.msg})", line=exc.lineno) from exc
    if not isinstance(data, dict):
        raise ManifestError(str(path), "expected a JSON object with segment_sizes_bits")
    return parse_sabre_video(data, source=str(path))
