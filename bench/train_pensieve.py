"""Train the `pensieve` policy with PPO and write its weights as `abr/algorithms/pensieve_weights.py`.

    make train-rl     # python -m bench.train_pensieve (needs `pip install '.[rl-train]'`)

A Pensieve-style agent (Mao et al., SIGCOMM 2017): a small MLP over the last 8 throughputs
and download times, the buffer, the next segment's sizes, the video left and the last rung
(`abr.algorithms.pensieve_features`), trained with stable-baselines3's PPO in
`streamlab/Streaming-v0` under the default profile's session settings (abandonment off: the
policy's choices stand, as in Pensieve) on the dev video. The curriculum goes from easy
links to hard ones, as Genet (Xia et al., SIGCOMM 2022) does with its synthetic traces:

1. fast: constant links, half of them 3-30 Mbit/s, so the top rungs pay from the start
   (a policy first trained among slow links stalls on them, stops trying them, and then
   never learns what they are worth on a fast one);
2. steady: also calm random walks;
3. variable: also slow and volatile walks, random steps, a two-state cellular link;
4. drops: also Wi-Fi with short drops and repeated outages;
5. dev: the training halves of every dev set (even files, as `bench.streamlab_tuning` splits
   them; sets weigh equally) beside all of the above. Validation halves are never read.

The synthetic traces come from `traces.synthetic.families` with seed `FAMILY_SEED`, which
shares no trace with the draw `bench.unseen_families` judges on (seed 0); the families are
therefore not unseen kinds of link for this policy, only unseen traces.

The entropy bonus decays linearly from `ENTROPY[0]` to `ENTROPY[1]` over the run: exploration
is wide while the fast links teach the top rungs, and narrow by the end, where the shipped
policy plays its most likely action.

The run is deterministic for a given seed and step count on one thread (`torch.set_num_threads(1)`).
The weights module records the command, the step count, the versions and the SHA-256 of the
training corpus (`corpus_sha256`: the video and every training trace, in order).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import platform
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium import spaces

from abr.algorithms.pensieve_features import CEILING, FEATURES, RUNGS, features, rendition_for
from abr.presentation import Presentation
from abr.registry import PROFILES
from bench.streamlab_tuning import split_of
from simulator.gym_env import StreamingEnv
from simulator.video import load_video
from traces import synthetic
from traces.formats import sabre_json
from traces.load import load_trace
from traces.trace import Trace

ROOT = Path(__file__).resolve().parents[1]
WEIGHTS = ROOT / "abr" / "algorithms" / "pensieve_weights.py"
VIDEO = "bbb.json"
FAMILY_SEED = 2017
PER_FAMILY = 24
DEFAULT_STEPS = 4_000_000
ENVS = 4
ENTROPY = (0.04, 0.005)  # bonus at the first step and at the last
# Each stage's families (cumulative) and share of the steps.
STAGES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("fast", 0.1, ("constant", "fast")),
    ("steady", 0.1, ("walk-calm",)),
    ("variable", 0.2, ("walk-slow", "walk-volatile", "random-steps", "markov-cell")),
    ("drops", 0.15, ("wifi-drops", "outages")),
    ("dev", 0.45, ("dev",)),
)
# Every set is drawn alike within a stage, whatever its size (FCC has 43 training traces,
# Sabre's broadband sets 100 each): each set's list is cycled to this length.
SET_WEIGHT = 200


@dataclass(frozen=True)
class Corpus:
    video_path: Path
    sets: dict[str, list[Trace]]  # set (a family, "constant", or a dev set) -> traces
    dev_paths: list[Path]  # the dev training files, in order (for the hash)

    def stage(self, names: Sequence[str]) -> list[Trace]:
        chosen = [
            name
            for name in self.sets
            if name in names or ("dev" in names and name.startswith("dev:"))
        ]
        pool: list[Trace] = []
        for name in chosen:
            traces = self.sets[name]
            pool += [traces[i % len(traces)] for i in range(SET_WEIGHT)]
        return pool


def corpus(shared: Path) -> Corpus:
    rng = np.random.default_rng(FAMILY_SEED)

    def constants(low_kbps: float, high_kbps: float) -> list[Trace]:
        rates = np.exp(rng.uniform(np.log(low_kbps), np.log(high_kbps), PER_FAMILY))
        return [synthetic.constant(float(kbps)) for kbps in rates]

    sets: dict[str, list[Trace]] = {
        "constant": constants(200, 12_000),
        # Half to five times the dev video's top bitrate (6 Mbit/s): the top rungs pay on most.
        "fast": constants(3_000, 30_000),
    }
    for trace in synthetic.families(PER_FAMILY, seed=FAMILY_SEED):
        sets.setdefault(trace.set_name, []).append(trace)
    dev_paths = []
    for path, (name, split) in split_of(shared).items():
        if split == "train":
            sets.setdefault(f"dev:{name}", []).append(load_trace(path))
            dev_paths.append(Path(path))
    return Corpus(shared / "videos" / VIDEO, sets, dev_paths)


def corpus_sha256(shared: Path) -> str:
    """SHA-256 over the video file, every dev training file and every synthetic trace."""
    data = corpus(shared)
    digest = hashlib.sha256()
    digest.update(data.video_path.read_bytes())
    for path in data.dev_paths:
        digest.update(f"{path.parent.name}/{path.name}\n".encode())
        digest.update(path.read_bytes())
    for name, traces in data.sets.items():
        if not name.startswith("dev:"):
            for trace in traces:
                digest.update(sabre_json.dump(trace).encode())
    return digest.hexdigest()


class PensieveEnv(gym.Wrapper[np.ndarray, int, np.ndarray, np.int64]):
    """`StreamingEnv` as the `pensieve` algorithm sees it: its features, its actions, and the
    reward per top-bitrate Mbit/s (the same optimum; values near 1 suit the value network)."""

    def __init__(self, env: StreamingEnv) -> None:
        super().__init__(env)
        self.streaming = env
        self.observation_space = spaces.Box(0.0, CEILING, shape=(FEATURES,), dtype=np.float32)
        self.action_space = spaces.Discrete(RUNGS)
        self.scale = env.video.renditions[-1].bandwidth_bps / 1e6

    def reset(self, **kwargs: Any) -> tuple[np.ndarray, dict[str, Any]]:
        _, info = self.env.reset(**kwargs)
        return features(self.streaming.context), info

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        rendition = rendition_for(int(action), self.streaming.context.max_rendition)
        _, reward, terminated, truncated, info = self.env.step(rendition)
        return features(self.streaming.context), reward / self.scale, terminated, truncated, info


def make_env(video: Presentation, traces: list[Trace]) -> PensieveEnv:
    config = replace(PROFILES["default"].session, abandonment=False)
    return PensieveEnv(StreamingEnv(traces=traces, video=video, config=config))


def train(
    shared: Path, steps: int, seed: int, checkpoints: Path | None = None
) -> tuple[Any, float]:
    import torch
    from stable_baselines3 import PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv, VecNormalize

    torch.set_num_threads(1)
    data = corpus(shared)
    video = load_video(data.video_path)
    envs = [make_env(video, data.stage(STAGES[0][2])) for _ in range(ENVS)]
    vec = DummyVecEnv([lambda env=env: Monitor(env) for env in envs])  # type: ignore[misc]
    vec.seed(seed)
    # Returns scaled to unit variance for the value network; observations stay as they are,
    # so the exported network reads `features` directly.
    vec = VecNormalize(vec, norm_obs=False, norm_reward=True, gamma=0.99)
    model = PPO(
        "MlpPolicy",
        vec,
        n_steps=512,
        batch_size=256,
        n_epochs=6,
        learning_rate=3e-4,
        gamma=0.99,
        ent_coef=ENTROPY[0],
        policy_kwargs={"net_arch": {"pi": [64, 64], "vf": [64, 64]}},
        seed=seed,
        device="cpu",
        verbose=0,
    )

    class DecayEntropy(BaseCallback):
        def _on_step(self) -> bool:
            return True

        def _on_rollout_end(self) -> None:
            done = min(self.model.num_timesteps / steps, 1.0)
            self.model.ent_coef = ENTROPY[0] + done * (ENTROPY[1] - ENTROPY[0])

    decay = DecayEntropy()
    start = time.perf_counter()
    families: list[str] = []
    for name, share, added in STAGES:
        families += added
        pool = data.stage(families)
        for env in envs:
            env.streaming.traces = pool
        model.learn(int(steps * share), reset_num_timesteps=False, callback=decay)
        rewards = [ep["r"] for ep in model.ep_info_buffer]
        print(
            f"stage {name}: {len(pool)} traces in the pool, {model.num_timesteps} steps, "
            f"{time.perf_counter() - start:.0f} s, entropy bonus {model.ent_coef:.4f}, "
            f"mean episode reward {np.mean(rewards) if rewards else float('nan'):.1f}",
            flush=True,
        )
        if checkpoints is not None:
            # A run cut short still leaves each finished stage's policy to judge.
            checkpoints.mkdir(parents=True, exist_ok=True)
            record = {"CHECKPOINT": f"after stage {name}, {model.num_timesteps} steps"}
            (checkpoints / f"pensieve_weights_{name}.py").write_text(
                module_text(layers(model), record)
            )
    return model, time.perf_counter() - start


def layers(model: Any) -> list[tuple[np.ndarray, np.ndarray]]:
    """The policy network's (weight, bias) pairs, input to output, as float32 arrays."""
    import torch

    linear = [m for m in model.policy.mlp_extractor.policy_net if isinstance(m, torch.nn.Linear)]
    linear.append(model.policy.action_net)
    return [
        (
            m.weight.detach().numpy().astype(np.float32),
            m.bias.detach().numpy().astype(np.float32),
        )
        for m in linear
    ]


def module_text(pairs: list[tuple[np.ndarray, np.ndarray]], record: dict[str, str]) -> str:
    """The weights module: arrays as base64 of little-endian float32, with the provenance."""

    def b64(array: np.ndarray) -> str:
        text = base64.b64encode(array.astype("<f4").tobytes()).decode()
        chunks = [text[i : i + 88] for i in range(0, len(text), 88)]
        return "(\n" + "".join(f'            "{c}"\n' for c in chunks) + "        )"

    entries = "".join(
        f"    (\n        {tuple(w.shape)!r},\n        {b64(w)},\n        {b64(b)},\n    ),\n"
        for w, b in pairs
    )
    fields = "".join(f"{key} = {value!r}\n" for key, value in record.items())
    return (
        '"""The `pensieve` policy\'s weights, written by `make train-rl` (bench/train_pensieve.py);\n'
        "do not edit. Each layer: (out, in) shape, weight and bias as base64 of little-endian\n"
        'float32, row-major; tanh between layers, argmax of the last."""\n\n'
        f"{fields}\n"
        f"LAYERS: tuple[tuple[tuple[int, int], str, str], ...] = (\n{entries})\n"
    )


def versions() -> str:
    import stable_baselines3
    import torch

    return (
        f"stable-baselines3 {stable_baselines3.__version__}, torch {torch.__version__}, "
        f"gymnasium {gym.__version__}, numpy {np.__version__}, Python {platform.python_version()}"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--steps", type=int, default=DEFAULT_STEPS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=WEIGHTS)
    parser.add_argument(
        "--checkpoints", type=Path, default=None, help="write each stage's weights module here"
    )
    args = parser.parse_args()
    model, wall = train(args.shared, args.steps, args.seed, args.checkpoints)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    record = {
        "TRAINING_COMMAND": (
            f"python -m bench.train_pensieve --steps {args.steps} --seed {args.seed}"
        ),
        "TRAINED_AT_COMMIT": commit or "unknown",
        "CORPUS_SHA256": corpus_sha256(args.shared),
        "TRAINED_WITH": versions(),
        "TRAINING_WALL": f"{wall / 60:.0f} min on one thread",
    }
    args.out.write_text(module_text(layers(model), record))
    print(f"wrote {args.out} ({wall / 60:.1f} min)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
