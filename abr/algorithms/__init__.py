"""The built-in ABR algorithms, one module each, selectable by name."""

from abr.algorithms.bba import BbaAbr
from abr.algorithms.bola import BolaAbr
from abr.algorithms.bolae import BolaEAbr
from abr.algorithms.dynamic import DynamicAbr
from abr.algorithms.l2a import L2aAbr
from abr.algorithms.lolp import LolpAbr
from abr.algorithms.pensieve import PensieveAbr
from abr.algorithms.robustmpc import RobustMpcAbr
from abr.algorithms.stochastic_mpc import StochasticMpcAbr
from abr.algorithms.streamlab import StreamlabAbr
from abr.algorithms.throughput import ThroughputAbr

__all__ = [
    "BbaAbr",
    "BolaAbr",
    "BolaEAbr",
    "DynamicAbr",
    "L2aAbr",
    "LolpAbr",
    "PensieveAbr",
    "RobustMpcAbr",
    "StochasticMpcAbr",
    "StreamlabAbr",
    "ThroughputAbr",
]
