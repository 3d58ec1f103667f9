"""Errors of the QA harness."""


class QaInputError(Exception):
    """Bad input or an unusable backend: reported as one line, exit code 2."""
