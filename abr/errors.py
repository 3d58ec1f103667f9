"""Exceptions of the sans-I/O core (kept apart so the hot modules can be compiled by mypyc)."""


class InputError(Exception):
    """Bad input a user can fix (a file, an option, a configuration), not a bug.

    The base of the input errors of abr/ and of the packages above it (manifests, --abr specs,
    simulator, QA and command-line options; the trace loaders and the backend, which import
    nothing from abr/, have TraceError and BackendError): `str()` is one line naming where and
    what was wrong, which the command line prints before exiting with code 2. Anything else reaching it is a bug and keeps its traceback.
    """


MAX_REASON_CHARS = 300


def shorten(reason: str) -> str:
    """A reason cut to MAX_REASON_CHARS: messages quote input, which may be a megabyte line."""
    if len(reason) <= MAX_REASON_CHARS:
        return reason
    return reason[: MAX_REASON_CHARS - 3] + "..."


class SessionError(RuntimeError):
    """The driver broke the protocol (time went backwards, event before the manifest)."""
