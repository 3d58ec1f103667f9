"""Network traces: loaders for the common formats, synthetic generators, statistics."""
