"""`GET /api/v1/time`: the server's clock, for DASH UTCTiming (scheme http-iso) and any client
that must place itself on a live channel's timeline."""

from __future__ import annotations

import time

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse

import api_paths as paths
from backend_stub.live.manifests import iso_time

router = APIRouter()


@router.get(paths.TIME)
def server_time() -> PlainTextResponse:
    return PlainTextResponse(iso_time(time.time()), headers={"Cache-Control": "no-store"})
