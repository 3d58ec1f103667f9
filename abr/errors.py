"""Exceptions of the sans-I/O core (kept apart so the hot modules can be compiled by mypyc)."""


class SessionError(RuntimeError):
    """The driver broke the protocol (time went backwards, event before the manifest)."""
