"""Fit the throughput-quantile model `stochasticmpc` plans with; write it as a Python module.

    python -m bench.train_predictor [--shared ../shared] [--out abr/estimators/quantile_fit.py]

(`make train`.) The corpus: the *training* half of every dev set (even positions in name order,
as `bench.streamlab_tuning` splits them; the validation half is never read) plus generated
links of the kinds the dev sets lack or hold few of (`traces.synthetic`: the seven families
drawn from seeds other than `bench.unseen_families`', Gilbert-Elliott links, outages of
several lengths, tunnels, slow and fast fading). Every trace is played by `streamlab` and by
`bola` (two behaviours, so the samples cover low and high rungs); at each decision after the
first download the estimator's features are recorded with the target: log(mean link rate over
the next `HORIZON_SEGMENTS` segments' duration / the reference), read from the simulated link.
One linear quantile regression per level (scikit-learn, pinball loss, HiGHS: deterministic)
gives the coefficients. The module records the command, the corpus's SHA-256 (of every trace as
Sabre JSON, in order) and the format version; `abr/` imports it, so the sans-I/O core never
reads a file.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from abr.algorithm import AbrAlgorithm
from abr.context import AbrContext, Decision, DownloadRecord, Progress
from abr.estimators.quantile import FEATURES, QuantileModel, ThroughputQuantiles
from abr.registry import PROFILES, create
from bench.streamlab_tuning import split_of
from simulator.link import TraceLink
from simulator.run import simulate
from simulator.video import load_video
from traces import synthetic
from traces.formats import sabre_json
from traces.load import load_trace
from traces.trace import Trace

LEVELS = (0.05, 0.25, 0.5, 0.75, 0.95)
HORIZON_SEGMENTS = 4  # the lever: the mean over the next 12 s (bench.prediction_ceiling)
MAX_ROWS = 15_000  # per fit (a deterministic subsample): the LP grows with the rows
TARGET_CLIP = (-7.0, 5.0)
BEHAVIOURS = ("streamlab", "bola")
OUT = Path(__file__).parents[1] / "abr" / "estimators" / "quantile_fit.py"
# A model that predicts nothing: only the features are wanted while collecting.
_BLANK = QuantileModel((0.5,), ((0.0,) * (len(FEATURES) + 1),), HORIZON_SEGMENTS)


def generated(seed: int = 1) -> list[Trace]:
    """The generated part of the corpus (seeds unlike `bench.unseen_families`' seed 0)."""
    rng = np.random.default_rng(seed)
    traces = synthetic.families(12, seed=seed + 100)
    for i in range(24):
        s = 10_000 + 10 * i
        good = float(rng.uniform(1000, 8000))
        traces += [
            synthetic.markov(
                good,
                good * float(rng.uniform(0.03, 0.3)),
                0.05,
                0.2,
                s,
                jitter=0.3,
                set_name="gilbert-elliott",
            ),
            synthetic.outages(
                float(rng.uniform(1500, 9000)), s + 1, length_s=(2.0, 8.0), set_name="outages-short"
            ),
            synthetic.outages(
                float(rng.uniform(800, 6000)),
                s + 2,
                length_s=(20.0, 60.0),
                gap_s=(30.0, 90.0),
                set_name="outages-long",
            ),
            synthetic.tunnel(
                float(rng.uniform(3000, 20000)),
                float(rng.uniform(100, 800)),
                start_s=float(rng.uniform(30, 300)),
                length_s=float(rng.uniform(5, 40)),
                set_name="tunnel",
            ),
            synthetic.random_walk(
                float(rng.uniform(400, 6000)), s + 3, 0.995, 0.05, set_name="fading-slow"
            ),
            synthetic.random_walk(
                float(rng.uniform(400, 6000)), s + 4, 0.6, 0.5, set_name="fading-fast"
            ),
        ]
    return traces


def corpus(shared: Path) -> list[Trace]:
    """The training half of the dev sets, then the generated links."""
    train = [path for path, (_, part) in split_of(shared).items() if part == "train"]
    return [load_trace(path) for path in sorted(train)] + generated()


def corpus_sha256(traces: list[Trace]) -> str:
    digest = hashlib.sha256()
    for trace in traces:
        digest.update(f"{trace.set_name}/{trace.name}\n".encode())
        digest.update(sabre_json.dump(trace).encode())
    return digest.hexdigest()


class _Recorder(AbrAlgorithm):
    """Plays as `behaviour` does and records (features, target) at every decision."""

    name = "recorder"

    def __init__(self, behaviour: str, link: TraceLink) -> None:
        self.behaviour = create(behaviour, PROFILES["default"])
        self.link = link
        self.estimator = ThroughputQuantiles(_BLANK)
        self.rows: list[list[float]] = []

    def start(self, ctx: AbrContext) -> None:
        self.behaviour.start(ctx)
        self.estimator = ThroughputQuantiles(_BLANK)

    def on_download(self, ctx: AbrContext, record: DownloadRecord) -> None:
        self.behaviour.on_download(ctx, record)
        self.estimator.add_sample(
            record.done_at - record.first_byte_at,
            record.throughput_kbps,
            record.latency_s,
            ctx.segment_durations_s[record.segment_index],
        )

    def choose(self, ctx: AbrContext) -> int | Decision | None:
        reference = self.estimator.throughput_kbps
        if reference is not None:
            window = HORIZON_SEGMENTS * ctx.segment_duration_s
            delivered = self.link.capacity_at(ctx.now + window) - self.link.capacity_at(ctx.now)
            mean_kbps = max(delivered / window / 1000.0, 1e-3)
            target = min(max(math.log(mean_kbps / reference), TARGET_CLIP[0]), TARGET_CLIP[1])
            self.rows.append([*self.estimator.features(), target])
        return self.behaviour.choose(ctx)

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> int | Decision | None:
        return self.behaviour.should_abandon(ctx, progress)


def _collect(job: tuple[Trace, str]) -> list[list[float]]:
    trace, video_path = job
    video = load_video(video_path)
    rows: list[list[float]] = []
    for behaviour in BEHAVIOURS:
        recorder = _Recorder(behaviour, TraceLink(trace))
        simulate(trace, video, recorder, PROFILES["default"].session)
        rows += recorder.rows
    return rows


def fit(x: np.ndarray, y: np.ndarray, levels: tuple[float, ...]) -> list[tuple[float, ...]]:
    from sklearn.linear_model import QuantileRegressor

    rows = []
    for level in levels:
        model = QuantileRegressor(quantile=level, alpha=1e-5, solver="highs-ipm").fit(x, y)
        rows.append((float(model.intercept_), *(float(c) for c in model.coef_)))
    return rows


def pinball(y: np.ndarray, prediction: np.ndarray, level: float) -> float:
    diff = y - prediction
    return float(np.mean(np.maximum(level * diff, (level - 1) * diff)))


def module_text(model: QuantileModel) -> str:
    rows = "\n".join(
        "        (" + ", ".join(f"{c:.6g}" for c in row) + ")," for row in model.coefficients
    )
    return f'''"""The shipped fit of `abr.estimators.quantile` (generated by `make train`; do not edit).

Re-create it with: {model.command}
Rows: one per level, the intercept first, then one weight per feature of
`abr.estimators.quantile.FEATURES`, in order.
"""

from abr.estimators.quantile import QuantileModel

# fmt: off
FIT = QuantileModel(
    levels={model.levels!r},
    coefficients=(
{rows}
    ),
    horizon_segments={model.horizon_segments},
    version={model.version},
    command={model.command!r},
    corpus_sha256={model.corpus_sha256!r},
)
# fmt: on
'''


def train(shared: Path, out: Path, jobs: int | None = None) -> str:
    traces = corpus(shared)
    video_path = str(shared / "videos" / "bbb.json")
    with ProcessPoolExecutor(jobs) as pool:
        batches = list(pool.map(_collect, [(t, video_path) for t in traces], chunksize=4))
    data = np.array([row for batch in batches for row in batch])
    if len(data) > MAX_ROWS:
        data = data[np.random.default_rng(0).choice(len(data), MAX_ROWS, replace=False)]
    x, y = data[:, :-1], data[:, -1]
    model = QuantileModel(
        LEVELS,
        tuple(fit(x, y, LEVELS)),
        HORIZON_SEGMENTS,
        command="make train  # python -m bench.train_predictor",
        corpus_sha256=corpus_sha256(traces),
    )
    out.write_text(module_text(model))
    lines = [
        f"corpus: {len(traces)} traces, {len(data)} decisions used, sha256 {model.corpus_sha256}",
        "| level | pinball loss (model) | pinball loss (a constant offset) | share below |",
        "|---|---|---|---|",
    ]
    for level, row in zip(LEVELS, model.coefficients, strict=True):
        prediction = row[0] + x @ np.array(row[1:])
        constant = float(np.quantile(y, level))
        lines.append(
            f"| {level} | {pinball(y, prediction, level):.4f} | "
            f"{pinball(y, np.full_like(y, constant), level):.4f} | {np.mean(y < prediction):.3f} |"
        )
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).parents[2] / "shared")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--jobs", type=int, default=None)
    args = parser.parse_args()
    print(train(args.shared, args.out, args.jobs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
