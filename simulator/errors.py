"""Exceptions of the simulator (kept apart so the hot modules can be compiled by mypyc)."""

from abr.errors import InputError


class SimulationError(RuntimeError):
    """A session could not be simulated to its end."""


class LiveSetupError(InputError, ValueError):
    """Live settings the video cannot be published with (a chunk longer than its segments)."""


class LinkError(InputError, ValueError):
    """A trace that cannot carry a session (no bandwidth at all)."""
