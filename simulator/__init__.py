"""Trace-driven simulation: drives `abr.session` over a virtual clock and a trace-shaped link."""
