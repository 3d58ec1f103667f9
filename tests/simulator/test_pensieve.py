"""`--abr pensieve`: the shipped learned policy plays like a rate-adaptive player, decides as
the trained network does without torch, and its weights name the corpus they came from."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from abr.algorithms import pensieve_weights
from abr.algorithms.pensieve import MlpPolicy, decode
from abr.algorithms.pensieve_features import FEATURES, RUNGS
from abr.presentation import Presentation
from abr.registry import PROFILES, create
from simulator.run import simulate
from traces import synthetic

ROOT = Path(__file__).resolve().parents[2]


def _bitrate_kbps(kbps: float, video: Presentation) -> float:
    trace = synthetic.constant(kbps, duration_s=240.0)
    result = simulate(trace, video, create("pensieve"), PROFILES["default"].session)
    return result.summary.bitrate_kbps


def test_pensieve_plays_higher_rungs_on_a_fast_link_than_on_a_slow_one(
    video: Presentation,
) -> None:
    slow, fast = _bitrate_kbps(800.0, video), _bitrate_kbps(8_000.0, video)
    assert fast > 2 * slow


def test_pensieve_streams_the_top_rung_on_a_link_far_above_it(video: Presentation) -> None:
    # A mean above the rung below the top: the top rung nearly throughout, not a cautious cap.
    assert _bitrate_kbps(20_000.0, video) > video.renditions[-2].bandwidth_bps / 1000


def test_compare_runs_pensieve_beside_a_classic(tmp_path: Path, video: Presentation) -> None:
    traces = tmp_path / "links"
    traces.mkdir()
    from traces.formats import sabre_json

    (traces / "markov.json").write_text(
        sabre_json.dump(synthetic.markov(4000, 600, 0.1, 0.3, seed=3, duration_s=120.0))
    )
    video_file = tmp_path / "video.json"
    from simulator.synthetic_video import synthetic_video

    video_file.write_text(json.dumps(synthetic_video(segments=20, seed=1)))
    done = subprocess.run(
        [sys.executable, "-m", "streamlab.cli", "compare", "--traces", str(traces), "--video",
         str(video_file), "--abr", "pensieve,bba", "--jobs", "1", "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=ROOT, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    rows = (tmp_path / "out" / "results.csv").read_text().splitlines()
    assert {row.split(",")[2] for row in rows[1:]} == {"pensieve", "bba"}


def test_the_numpy_policy_decides_as_the_torch_policy_it_was_exported_from(
    tmp_path: Path, video: Presentation
) -> None:
    pytest.importorskip("torch")
    ppo = pytest.importorskip("stable_baselines3").PPO
    from bench import train_pensieve

    env = train_pensieve.make_env(video, [synthetic.markov(4000, 600, 0.1, 0.3, seed=2)])
    model = ppo("MlpPolicy", env, n_steps=64, batch_size=32, n_epochs=1, seed=1, device="cpu")
    model.learn(128)
    # Through the weights module's text, as `make train-rl` writes it.
    text = train_pensieve.module_text(train_pensieve.layers(model), {"CORPUS_SHA256": "x"})
    namespace: dict[str, object] = {}
    exec(compile(text, "pensieve_weights.py", "exec"), namespace)
    policy = decode(namespace["LAYERS"])  # type: ignore[arg-type]
    observation, _ = env.reset(seed=0)
    actions = set()
    for _ in range(40):
        expected, _ = model.predict(observation, deterministic=True)
        assert policy.confidence(observation)[0] == int(expected)
        actions.add(int(expected))
        observation, _, done, _, _ = env.step(int(np.random.default_rng(len(actions)).integers(10)))
        if done:
            break


@pytest.mark.shared
def test_the_shipped_weights_record_the_hash_of_the_corpus_they_were_trained_on(
    shared_dir: Path,
) -> None:
    from bench.train_pensieve import corpus_sha256

    assert corpus_sha256(shared_dir) == pensieve_weights.CORPUS_SHA256
    assert pensieve_weights.TRAINING_COMMAND.startswith("python -m bench.train_pensieve")


def test_the_policy_says_how_sure_it_was_of_its_choice() -> None:
    bias = np.zeros(RUNGS, dtype=np.float32)
    bias[3], bias[5] = 2.0, 1.0
    policy = MlpPolicy(((np.zeros((RUNGS, FEATURES), dtype=np.float32), bias),))
    action, probability = policy.confidence(np.ones(FEATURES, dtype=np.float32))
    softmax = np.exp(bias) / np.exp(bias).sum()
    assert action == 3 and probability == pytest.approx(float(softmax[3]))
