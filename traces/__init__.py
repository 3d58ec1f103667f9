"""Network traces: loaders for the common formats, synthetic generators, statistics."""

from traces.errors import TraceError
from traces.load import load_trace
from traces.trace import Trace

__all__ = ["Trace", "TraceError", "load_trace"]
