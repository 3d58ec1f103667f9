"""App factory: one FastAPI app per config, state on app.state (no module globals)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fastapi import FastAPI

import api_paths as paths
from backend_stub.api import auth_routes, catalog, clock, drm, errors, media, playback, uploads
from backend_stub.api.state import AppState
from backend_stub.config import BackendConfig
from backend_stub.db import session_factory
from backend_stub.queue import JobQueue
from backend_stub.store import open_store

# The API's JSON bodies are well under a KiB.
MAX_BODY_BYTES = 1024**2


def create_app(config: BackendConfig) -> FastAPI:
    sessions = session_factory(config.database_url)
    # Every route reads at most this much body unless it declares its own limit (the upload
    # routes, which stream to disk); counted on Content-Length and on the bytes as they come,
    # so a chunked 80 MiB body is cut off at 1 MiB instead of read into memory.
    app = FastAPI(title="streamlab origin", version="1", max_body_size=MAX_BODY_BYTES)
    app.state.backend = AppState(
        config=config,
        sessions=sessions,
        store=open_store(config.store_url),
        queue=JobQueue(sessions),
    )
    errors.install(app)
    for module in (auth_routes, catalog, playback, uploads, media, drm, clock):
        app.include_router(module.router)

    @app.get(paths.HEALTHZ)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def main(argv: list[str] | None = None) -> int:
    """`python -m backend_stub.api.app --config DATA/backend.json --port N`: the origin process."""
    import uvicorn

    parser = argparse.ArgumentParser(prog="python -m backend_stub.api.app")
    parser.add_argument("--config", required=True, type=Path)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", required=True, type=int)
    args = parser.parse_args(argv)
    app = create_app(BackendConfig.load(args.config))
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        backlog=2048,
        timeout_keep_alive=30,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
