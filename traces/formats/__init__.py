"""One module per trace file format, each with `parse(text, ...) -> Trace` and `dump(trace) -> str`."""
