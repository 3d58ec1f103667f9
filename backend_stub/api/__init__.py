"""The origin's HTTP API (FastAPI): auth, catalog, manifests, progress, uploads, media."""
