"""Load a video description file (Sabre-style JSON) into a Presentation."""

from __future__ import annotations

import json
from pathlib import Path

from abr.manifests import ManifestError, parse_sabre_video
from abr.presentation import Presentation


def load_video(path: str | Path) -> Presentation:
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ManifestError(str(path), f"cannot read: {exc.strerror}") from exc
    except UnicodeDecodeError as exc:
        raise ManifestError(str(path), f"not UTF-8 text (byte {exc.start})") from exc
    try:
        # Integers as floats: a JSON integer of thousands of digits is refused by int() with a
        # message about sys.set_int_max_str_digits; as a float it is inf, which the parser
        # refuses by field. Sizes are floats in the model anyway.
        data = json.loads(text, parse_int=float)
    except json.JSONDecodeError as exc:
        raise ManifestError(str(path), f"not JSON ({exc.msg})", line=exc.lineno) from exc
    except RecursionError:
        raise ManifestError(str(path), "not a video description (JSON nested too deeply)") from None
    if not isinstance(data, dict):
        raise ManifestError(str(path), "expected a JSON object with segment_sizes_bits")
    return parse_sabre_video(data, source=str(path))
