"""Throughput and latency estimators: fed one sample per download, read before each decision."""

from abr.estimators.base import ThroughputEstimator
from abr.estimators.ewma import DualEwma
from abr.estimators.harmonic import SlidingHarmonicMean

__all__ = ["DualEwma", "SlidingHarmonicMean", "ThroughputEstimator"]
