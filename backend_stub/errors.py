"""Errors the backend raises for bad input or bad state; each message names what was wrong."""

from __future__ import annotations

from abr.errors import InputError


class BackendError(InputError):
    """Base class: a problem a user can fix (bad option, bad file, stale database)."""


class ConfigError(BackendError):
    """A configuration value is missing or malformed."""


class SchemaVersionError(BackendError):
    """The database was created by a different schema version than this code expects."""


class StoreKeyError(BackendError):
    """An object-store key is malformed (absolute, '..', empty segment) or absent."""


class StoreError(BackendError):
    """The object store cannot be used (missing bucket, bad credentials, unreachable endpoint);
    the message names the store URL."""


class TranscodeError(BackendError):
    """ffmpeg/ffprobe/packager failed; the message carries the tool's last stderr lines."""
