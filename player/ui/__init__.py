"""The 10-foot Qt UI: catalog, title page and playback screens over the player engine."""
