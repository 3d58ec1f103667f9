"""Real-time network emulation on loopback: a TCP link shaped by a trace, for real players.

The simulator (`simulator/`) replays a trace on a virtual clock; the emulator replays it in
wall-clock time under a real HTTP client and decoder (`streamlab play --trace`, `streamlab qa`),
so the same trace can be checked in both.
"""
