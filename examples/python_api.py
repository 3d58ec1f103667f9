"""One trace, one video, two algorithms: the QoE of each (python examples/python_api.py TRACE VIDEO)."""

import sys

from abr import PROFILES, create
from simulator import load_video, simulate
from traces import load_trace

trace, video = load_trace(sys.argv[1]), load_video(sys.argv[2])
for name in ("bola", "streamlab"):
    result = simulate(trace, video, create(name), PROFILES["default"].session)
    print(
        f"{name}: QoE_lin {result.summary.qoe_lin:.3f}, rebuffer {result.summary.rebuffer_ratio:.2%}"
    )
