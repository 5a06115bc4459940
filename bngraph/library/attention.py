"""Scaled dot-product attention with a mask, one head.

Queries (N, T, D) are scored against keys (N, S, D), ``scale · q kᵀ`` (the usual
scale is 1/√D); a mask (T, S) of 1s and 0s keeps or hides each pair (a hidden
score becomes −1e9, whose exponential is exactly 0); the softmax over the keys
weighs the values (N, S, D). The mask and the scale are constants.

>>> import numpy as np
>>> run = build().forward(**example(), keep_values=True)
>>> run.value("weights")[0, 0].round(3)       # the first query sees only the first key
array([1., 0., 0., 0.])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functions as F
from ..graph import Graph

__all__ = ["build", "example", "MASKED"]

MASKED = -1e9


def build() -> Graph:
    """``out = softmax(where(mask, scale · q @ kᵀ, −1e9)) @ v``."""
    g = Graph("attention")
    q = g.input("q", shape=("N", "T", "D"))
    k = g.input("k", shape=("N", "S", "D"))
    v = g.input("v", shape=("N", "S", "D"))
    mask = g.input("mask", shape=("T", "S"), grad=False)
    scale = g.input("scale", grad=False)
    with g.stage("1 scores"):
        kt = F.transpose(k, axes=(0, 2, 1), name="kt")
        scores = ((q @ kt).named("qk") * scale).named("scores")
    with g.stage("2 mask"):
        masked = F.where(mask, scores, MASKED, name="masked")
    with g.stage("3 softmax"):
        weights = F.softmax(masked, axis=-1, name="weights")
    with g.stage("4 mix"):
        out = (weights @ v).named("out")
    g.output(out)
    return g


def example() -> dict[str, Any]:
    """Two sequences of four positions, eight features, a causal mask."""
    d = 8

    def tensor(phase: float) -> Any:
        return np.sin(np.arange(2 * 4 * d) * 0.37 + phase).reshape(2, 4, d)

    return {"q": tensor(0.0), "k": tensor(1.0), "v": tensor(2.0),
            "mask": np.tril(np.ones((4, 4))), "scale": 1 / np.sqrt(d)}
