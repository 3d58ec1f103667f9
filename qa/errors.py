"""Errors of the QA harness."""

from abr.errors import InputError


class QaInputError(InputError):
    """Bad input or an unusable backend: reported as one line, exit code 2."""
