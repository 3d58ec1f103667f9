"""The Gymnasium environment passes Gymnasium's own checker and its rewards add up to QoE_lin."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from abr.presentation import Presentation
from simulator.gym_env import ENV_ID, StreamingEnv
from traces import synthetic


def test_passes_gymnasium_env_checker() -> None:
    check_env(gym.make(ENV_ID).unwrapped)


def test_an_episode_is_a_session_and_rewards_sum_to_its_qoe(video: Presentation) -> None:
    env = StreamingEnv(traces=[synthetic.markov(4000, 600, 0.1, 0.3, seed=2)], video=video)
    observation, _ = env.reset(seed=0)
    assert env.observation_space.contains(observation)
    total, steps, terminated, info = 0.0, 0, False, {}
    while not terminated:
        action = 3  # a fixed policy
        observation, reward, terminated, truncated, info = env.step(action)
        total += reward
        steps += 1
        assert not truncated
    assert steps == video.segment_count
    assert total / steps == pytest.approx(info["summary"]["qoe_lin"], abs=1e-9)


def test_greedy_beats_random_on_an_ample_link(video: Presentation) -> None:
    def episode(policy: str) -> float:
        env = StreamingEnv(traces=[synthetic.constant(50_000)], video=video)
        env.reset(seed=1)
        rng = np.random.default_rng(1)
        total, done = 0.0, False
        while not done:
            action = (
                env.action_space.n - 1
                if policy == "greedy"
                else int(rng.integers(env.action_space.n))
            )
            _, reward, done, _, _ = env.step(action)
            total += reward
        return total

    assert episode("greedy") > episode("random")


def test_a_rendition_the_link_sustains_plays_without_a_stall(video: Presentation) -> None:
    # The agent decides while the clock stands still, not once the buffer has run dry.
    env = StreamingEnv(traces=[synthetic.constant(3_000)], video=video)
    env.reset(seed=0)
    done, info = False, {}
    while not done:
        _, _, done, _, info = env.step(3)  # 750 kbit/s on a 3 Mbit/s link
    assert info["summary"]["stall_count"] == 0
    assert env.context.downloads[-1].buffer_before_s > 0


def test_bad_actions_are_refused(video: Presentation) -> None:
    env = StreamingEnv(video=video)
    env.reset(seed=0)
    with pytest.raises(ValueError, match="not a rendition index"):
        env.step(99)


def test_the_layout_names_every_index_once_and_each_slice_holds_its_quantity(
    video: Presentation,
) -> None:
    env = StreamingEnv(traces=[synthetic.constant(3000)], video=video, history=5)
    layout = env.layout
    observation, _ = env.reset(seed=0)
    for _ in range(6):
        observation, *_ = env.step(2)
    covered = sorted(
        i
        for part in (
            layout.throughput,
            layout.download_time,
            layout.buffer,
            layout.next_sizes,
            layout.segments_left,
            layout.last_rendition,
        )
        for i in range(*part.indices(layout.size))
    )
    assert covered == list(range(layout.size)) and layout.size == observation.shape[0]
    assert env._simulation is not None
    session = env._simulation.session
    newest = [d for d in session.context.downloads if not d.abandoned][-1]
    assert observation[layout.throughput][0] == pytest.approx(newest.throughput_kbps / 1000, 1e-6)
    assert observation[layout.buffer][0] == pytest.approx(session.buffer_s, 1e-6)
    assert observation[layout.next_sizes].shape == (len(video.renditions),)
    assert observation[layout.last_rendition][0] == pytest.approx(2 / (len(video.renditions) - 1))


def test_the_example_policies_read_the_observation_by_name() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "examples/gym_policies.py"],
        capture_output=True,
        text=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    qoe = dict(re.findall(r"(\w+) on \d+ segments: QoE_lin (-?[\d.]+)", done.stdout))
    assert float(qoe["greedy"]) > float(qoe["random"])
