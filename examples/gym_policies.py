"""Run a random and a greedy policy in the Gymnasium environment and print their QoE."""

import gymnasium as gym
import numpy as np

import simulator.gym_env  # noqa: F401  (registers streamlab/Streaming-v0)

env = gym.make("streamlab/Streaming-v0")
layout = env.unwrapped.layout  # named slices of the observation (see StreamingEnv's docstring)
seconds = 4.0  # the environment's default video: 4 s segments
rng = np.random.default_rng(0)
for name in ("random", "greedy"):
    observation, info = env.reset(seed=7)
    done, total = False, 0.0
    while not done:
        if name == "random":
            action = int(rng.integers(env.action_space.n))
        else:  # the highest rendition the last measured throughput (Mbit/s) sustains
            rates = observation[layout.next_sizes] / seconds  # Mbit/s each rendition needs
            newest = observation[layout.throughput][0]  # Mbit/s
            action = int(np.searchsorted(rates, newest, side="right") - 1)
            action = max(action, 0)
        observation, reward, done, _, info = env.step(action)
        total += reward
    print(
        f"{name:>6} on {info['summary']['segments']} segments: QoE_lin {info['summary']['qoe_lin']:.3f}"
    )
