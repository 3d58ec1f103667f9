"""A Gymnasium environment over the simulator: one step per segment, reward = its QoE_lin.

    import gymnasium as gym
    import simulator.gym_env  # registers "streamlab/Streaming-v0"

    env = gym.make("streamlab/Streaming-v0")
    observation, info = env.reset(seed=1)
    observation, reward, terminated, truncated, info = env.step(env.action_space.sample())

Observation (float32, length 2 H + L + 3 for `history` H and L renditions; every value is
clipped to [0, 1e6]); `env.unwrapped.layout` (an `ObservationLayout`) names the slices:

    | index             | name            | unit   | range   | meaning                                  |
    |-------------------|-----------------|--------|---------|------------------------------------------|
    | 0 .. H-1          | throughput      | Mbit/s | [0, ∞)  | last H downloads, newest first, 0-padded |
    | H .. 2H-1         | download_time   | s      | [0, ∞)  | their request-to-done times, same order  |
    | 2H                | buffer          | s      | [0, ∞)  | buffer level                             |
    | 2H+1 .. 2H+L      | next_sizes      | Mbit   | [0, ∞)  | next segment's size per rendition        |
    | 2H+L+1            | segments_left   | —      | [0, 1]  | share of segments not yet requested      |
    | 2H+L+2            | last_rendition  | —      | [0, 1]  | last rendition / top rendition index     |

Action: a rendition index. Reward: that segment's bitrate (Mbit/s) - 4.3 x the stall while fetching it - |bitrate
change|, so a session's rewards add up to QoE_lin x segments.

The same session logic as every other driver decides when each request goes; the agent only
picks renditions (abandonment is off so its choices stand). Traces are drawn per episode
from `traces` with the environment's seeded generator.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from abr.algorithm import AbrAlgorithm
from abr.config import SessionConfig
from abr.context import AbrContext
from abr.manifests import parse_sabre_video
from abr.presentation import Presentation
from abr.qoe import REBUFFER_PENALTY_LIN
from simulator.run import Simulation
from simulator.synthetic_video import synthetic_video
from traces import synthetic
from traces.trace import Trace

ENV_ID = "streamlab/Streaming-v0"
OBSERVATION_CEILING = 1e6


@dataclass(frozen=True)
class ObservationLayout:
    """Where each quantity sits in an observation (the docstring's table), as slices."""

    throughput: slice
    download_time: slice
    buffer: slice
    next_sizes: slice
    segments_left: slice
    last_rendition: slice
    size: int

    @classmethod
    def for_env(cls, history: int, renditions: int) -> ObservationLayout:
        sizes_at = 2 * history + 1
        left_at = sizes_at + renditions
        return cls(
            throughput=slice(0, history),
            download_time=slice(history, 2 * history),
            buffer=slice(2 * history, sizes_at),
            next_sizes=slice(sizes_at, left_at),
            segments_left=slice(left_at, left_at + 1),
            last_rendition=slice(left_at + 1, left_at + 2),
            size=left_at + 2,
        )


class _AgentPolicy(AbrAlgorithm):
    """Hands the agent's action to the session once; defers until the next one arrives."""

    name = "agent"

    def __init__(self) -> None:
        self.action: int | None = None
        self.context: AbrContext | None = None

    def start(self, ctx: AbrContext) -> None:
        self.context = ctx

    def choose(self, ctx: AbrContext) -> int | None:
        action, self.action = self.action, None
        return action


class StreamingEnv(gym.Env[np.ndarray, np.int64]):
    metadata = {"render_modes": []}  # noqa: RUF012 - the attribute Gymnasium defines

    def __init__(
        self,
        traces: Sequence[Trace] | None = None,
        video: Presentation | None = None,
        history: int = 8,
        buffer_target_segments: int = 4,
        config: SessionConfig | None = None,
    ) -> None:
        self.traces = list(traces) if traces is not None else synthetic.builtin_set()
        if not self.traces:
            raise ValueError("StreamingEnv needs at least one trace")
        self.video = video or parse_sabre_video(synthetic_video(), source="synthetic")
        self.history = history
        # `config` replaces these (and `buffer_target_segments`): an agent meant to play under
        # a lab profile trains under that profile's session settings.
        self.config = config or SessionConfig(
            buffer_target_segments=buffer_target_segments,
            first_rendition="estimate",
            abandonment=False,
        )
        levels = len(self.video.renditions)
        self._mbps = [r.bandwidth_bps / 1e6 for r in self.video.renditions]
        self.action_space = spaces.Discrete(levels)
        self.layout = ObservationLayout.for_env(history, levels)
        # Finite bounds far above any real value (Mbit/s, seconds, Mbit), as checkers prefer.
        self.observation_space = spaces.Box(
            0.0, OBSERVATION_CEILING, shape=(self.layout.size,), dtype=np.float32
        )
        self._policy = _AgentPolicy()
        self._simulation: Simulation | None = None
        self._seen = 0
        self._last_mbps: float | None = None

    def reset(
        self, *, seed: int | None = None, options: dict[str, Any] | None = None
    ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        trace = self.traces[int(self.np_random.integers(len(self.traces)))]
        self._policy = _AgentPolicy()
        self._simulation = Simulation(trace, self.video, self._policy, self.config)
        self._simulation.run()  # to the first decision
        self._seen = 0
        self._last_mbps = None
        return self._observe(), {"trace": trace.name}

    def step(self, action: np.int64 | int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        simulation = self._running()
        levels = len(self._mbps)
        if not 0 <= int(action) < levels:
            raise ValueError(f"action {action!r} is not a rendition index (0..{levels - 1})")
        self._policy.action = int(action)
        simulation.run()
        downloads = simulation.session.context.downloads
        reward = 0.0
        for record in downloads[self._seen :]:
            if record.abandoned:
                continue
            rate = self._mbps[record.rendition_index]
            change = 0.0 if self._last_mbps is None else abs(rate - self._last_mbps)
            reward += rate - REBUFFER_PENALTY_LIN * record.stall_s - change
            self._last_mbps = rate
        self._seen = len(downloads)
        info: dict[str, Any] = {}
        if simulation.finished:
            info["summary"] = simulation.result().summary.as_dict()
        return self._observe(), float(reward), simulation.finished, False, info

    @property
    def context(self) -> AbrContext:
        """What an `AbrAlgorithm` would see at this decision: an agent trained on features of it
        can be shipped as an algorithm that computes the same features in `choose`."""
        if self._simulation is None:
            raise RuntimeError("call reset() first")
        return self._simulation.session.context

    def _running(self) -> Simulation:
        if self._simulation is None or self._simulation.finished:
            raise RuntimeError("call reset() before step(), and again after an episode ends")
        return self._simulation

    def _observe(self) -> np.ndarray:
        assert self._simulation is not None
        session = self._simulation.session
        ctx = session.context
        recent = [d for d in ctx.downloads if not d.abandoned][-self.history :]
        throughputs = np.zeros(self.history)
        times = np.zeros(self.history)
        for i, record in enumerate(reversed(recent)):
            throughputs[i] = record.throughput_kbps / 1000.0
            times[i] = record.done_at - record.requested_at
        index = min(ctx.segment_index, ctx.segment_count - 1)
        sizes = np.array(ctx.sizes_bits[index]) / 1e6
        top = max(len(self._mbps) - 1, 1)
        last = (ctx.last_rendition or 0) / top
        left = (ctx.segment_count - ctx.segment_index) / ctx.segment_count
        layout = self.layout
        vector = np.empty(layout.size)
        vector[layout.throughput] = throughputs
        vector[layout.download_time] = times
        vector[layout.buffer] = max(session.buffer_s, 0.0)
        vector[layout.next_sizes] = sizes
        vector[layout.segments_left] = max(left, 0.0)
        vector[layout.last_rendition] = last
        return np.clip(vector, 0.0, OBSERVATION_CEILING).astype(np.float32)


gym.register(id=ENV_ID, entry_point="simulator.gym_env:StreamingEnv")
