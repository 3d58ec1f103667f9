"""Errors of the command line layer."""

from abr.errors import InputError


class UsageError(InputError):
    """Bad input from the user: printed as one line, exit code 2."""
