"""A Pensieve-style learned policy (Mao et al., SIGCOMM 2017): an MLP trained with PPO in
`streamlab/Streaming-v0` (`bench/train_pensieve.py`), played with numpy alone.

The network reads `abr.algorithms.pensieve_features.features` and its most likely action is
the decision (no sampling: a session is reproducible). Pensieve does not abandon downloads
and the policy was trained without abandonment, so it never asks for one.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import numpy as np

from abr.algorithm import AbrAlgorithm
from abr.algorithms import pensieve_weights
from abr.algorithms.pensieve_features import FEATURES, RUNGS, features, rendition_for
from abr.context import AbrContext, Decision, Progress

Layer = tuple[np.ndarray, np.ndarray]  # weight (out, in), bias (out,)


@dataclass(frozen=True)
class MlpPolicy:
    """tanh between layers; the last layer's outputs are the actions' logits."""

    layers: tuple[Layer, ...]

    def __post_init__(self) -> None:
        width = FEATURES
        for i, (weight, bias) in enumerate(self.layers):
            if weight.shape[1] != width or bias.shape != (weight.shape[0],):
                raise ValueError(
                    f"pensieve policy layer {i}: weight {weight.shape} and bias {bias.shape} "
                    f"do not take {width} inputs"
                )
            width = weight.shape[0]
        if width != RUNGS:
            raise ValueError(
                f"pensieve policy: {width} outputs, expected one per position ({RUNGS})"
            )

    def logits(self, x: np.ndarray) -> np.ndarray:
        *hidden, (weight, bias) = self.layers
        for w, b in hidden:
            x = np.tanh(w @ x + b)
        result: np.ndarray = weight @ x + bias
        return result

    def confidence(self, x: np.ndarray) -> tuple[int, float]:
        """The most likely action and the probability the policy gives it."""
        logits = self.logits(x)
        action = int(np.argmax(logits))
        weights = np.exp(logits - logits[action])
        return action, float(1.0 / weights.sum())


EncodedLayer = tuple[tuple[int, int], str, str]  # (out, in), base64 weight, base64 bias


def decode(layers: tuple[EncodedLayer, ...]) -> MlpPolicy:
    """A policy from layers as a weights module holds them (little-endian float32, row-major)."""

    def array(text: str, shape: tuple[int, ...]) -> np.ndarray:
        return np.frombuffer(base64.b64decode(text), dtype="<f4").reshape(shape)

    return MlpPolicy(
        tuple((array(weight, shape), array(bias, (shape[0],))) for shape, weight, bias in layers)
    )


class PensieveAbr(AbrAlgorithm):
    name = "pensieve"

    def __init__(self, policy: MlpPolicy | None = None) -> None:
        self.policy = policy or decode(pensieve_weights.LAYERS)

    def choose(self, ctx: AbrContext) -> Decision:
        action, probability = self.policy.confidence(features(ctx))
        return Decision(
            rendition_for(action, ctx.max_rendition),
            # how sure the policy was tells a reader of the timeline more than the position
            reason=("policy: position {} of {} ({:.0%} likely)", action, RUNGS - 1, probability),
        )

    def should_abandon(self, ctx: AbrContext, progress: Progress) -> None:
        return None
