"""Bounded types for what the API accepts: every number finite and in range, every string of
bounded length without control characters. Request bodies derive from `RequestModel`, so a
float field added later refuses NaN and ±inf (JSON's NaN, Infinity, an overflowing 1e400)
without anyone remembering to say so."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

# Longer than any title (a week): an offset or intro time past it is a bug or an attack.
MAX_MEDIA_SECONDS = 7 * 24 * 3600.0


class RequestModel(BaseModel):
    model_config = ConfigDict(allow_inf_nan=False)


def _printable(value: str) -> str:
    # NUL and friends are refused here rather than by PostgreSQL (which raises on NUL in text,
    # a 500) or, worse, stored and shown later.
    for position, char in enumerate(value):
        if char < " " or char == "\x7f":
            raise ValueError(f"control character {char!r} at position {position}")
    return value


Seconds = Annotated[float, Field(ge=0, le=MAX_MEDIA_SECONDS, allow_inf_nan=False)]
# Ids the API hands out (video, upload, playback session): URL-safe tokens.
Token = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
# The same in a URL path (a %00 there reached PostgreSQL, which raises on NUL: a 500).
TokenPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
Name = Annotated[str, Field(min_length=1, max_length=128), AfterValidator(_printable)]
Title = Annotated[str, Field(min_length=1, max_length=512), AfterValidator(_printable)]
Label = Annotated[str, Field(max_length=64), AfterValidator(_printable)]
# A title search: no title is longer (CreateUpload), and SQLite refuses a LIKE pattern over
# 50,000 bytes (a 500).
SearchText = Annotated[str, Query(max_length=512), AfterValidator(_printable)]
