"""Run a random and a greedy policy in the Gymnasium environment and print their QoE."""

import gymnasium as gym
import numpy as np

import simulator.gym_env  # noqa: F401  (registers streamlab/Streaming-v0)

env = gym.make("streamlab/Streaming-v0")
rng = np.random.default_rng(0)
for name in ("random", "greedy"):
    observation, info = env.reset(seed=7)
    done, total = False, 0.0
    while not done:
        if name == "random":
            action = int(rng.integers(env.action_space.n))
        else:  # the highest rendition the last measured throughput (Mbit/s) sustains
            sizes = observation[17:27]  # next segment's size per rendition, Mbit (4 s each)
            action = int(np.searchsorted(sizes / 4.0, observation[0], side="right") - 1)
            action = max(action, 0)
        observation, reward, done, _, info = env.step(action)
        total += reward
    print(
        f"{name:>6} on {info['summary']['segments']} segments: QoE_lin {info['summary']['qoe_lin']:.3f}"
    )
