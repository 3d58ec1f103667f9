"""The reference streaming backend and CDN edge: ingest, transcode, API, nginx tiers."""
