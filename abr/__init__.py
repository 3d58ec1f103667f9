"""Sans-I/O streaming-session logic and ABR algorithms.

Nothing here touches sockets, clocks, threads, Qt or files: callers feed events with
timestamps they own and carry out the commands they get back.

What a researcher needs is importable from here: the session and its settings, the types an
algorithm is written against, and the built-in algorithms by name (`create`, `resolve`).
"""

from abr.algorithm import AbrAlgorithm
from abr.config import SessionConfig
from abr.context import AbrContext, Decision, DownloadRecord, Progress
from abr.presentation import Presentation
from abr.qoe import QoeSummary
from abr.registry import BUILTIN, PROFILES, AlgorithmSpecError, Profile, create, resolve
from abr.session import Phase, Session, SessionMetrics, Waiting, WaitKind

__all__ = [
    "BUILTIN",
    "PROFILES",
    "AbrAlgorithm",
    "AbrContext",
    "AlgorithmSpecError",
    "Decision",
    "DownloadRecord",
    "Phase",
    "Presentation",
    "Profile",
    "Progress",
    "QoeSummary",
    "Session",
    "SessionConfig",
    "SessionMetrics",
    "WaitKind",
    "Waiting",
    "create",
    "resolve",
]
