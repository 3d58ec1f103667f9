"""Benchmarks (`make bench`): speed and memory targets, measured and written to bench/results.md."""
