"""Trace-driven simulation: drives `abr.session` over a virtual clock and a trace-shaped link.

    from simulator import load_video, simulate

The Gymnasium environment (`simulator.gym_env`) and the plots are imported on their own:
`import simulator` stays light (no gymnasium, matplotlib, pandas or dask).
"""

from simulator.errors import SimulationError
from simulator.run import Simulation, SimulationResult, simulate
from simulator.video import load_video

__all__ = ["Simulation", "SimulationError", "SimulationResult", "load_video", "simulate"]
