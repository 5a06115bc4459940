"""Spatial batch normalization: x of shape (N, C, H, W), statistics over axes (0, 2, 3).

``gamma`` and ``beta`` are declared per channel, ``[C]`` (a number works too).
The scale and shift happen with the channels last (a transpose to (N, H, W, C)
and back), where a per-channel ``gamma`` broadcasts as it is and a number given
for it stays a weak scalar (float32 data stays float32).

>>> import numpy as np
>>> run = build().forward(**example())
>>> run.outputs["out"].shape
(2, 3, 2, 2)
>>> np.allclose(run.value("out").mean(axis=(0, 2, 3)), example()["beta"])
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functions as F
from ..graph import Graph

__all__ = ["build", "example"]

AXES = (0, 2, 3)
CHANNELS_LAST = (0, 2, 3, 1)
CHANNELS_FIRST = (0, 3, 1, 2)


def build() -> Graph:
    """Stages as in ``batchnorm``, reducing over batch, height and width."""
    g = Graph("batchnorm_spatial")
    x = g.input("x", shape=("N", "C", "H", "W"))
    gamma = g.input("gamma", shape=("C",))
    beta = g.input("beta", shape=("C",))
    eps = g.input("eps", default=1e-5)
    with g.stage("1 mean"):
        mu = F.mean(x, axis=AXES, keepdims=True, name="mu")
    with g.stage("2 center"):
        xmu = (x - mu).named("xmu")
    with g.stage("3 square"):
        sq = (xmu ** 2).named("sq")
    with g.stage("4 variance"):
        var = F.mean(sq, axis=AXES, keepdims=True, name="var")
    with g.stage("5 std"):
        sqrtvar = F.sqrt(var + eps, name="sqrtvar")
    with g.stage("6 invert"):
        ivar = (1 / sqrtvar).named("ivar")
    with g.stage("7 normalize"):
        xhat = (xmu * ivar).named("xhat")
    with g.stage("8 scale"):
        xhat_t = F.transpose(xhat, axes=CHANNELS_LAST, name="xhat_t")
        gammax = (gamma * xhat_t).named("gammax")
    with g.stage("9 shift"):
        shifted = (gammax + beta).named("shifted")
        out = F.transpose(shifted, axes=CHANNELS_FIRST, name="out")
    g.output(out)
    return g


def example() -> dict[str, Any]:
    """A small deterministic batch: 2 images of 3 channels, 2x2 pixels."""
    x = np.sin(np.arange(24.0)).reshape(2, 3, 2, 2) * 3 + np.arange(3.0).reshape(3, 1, 1)
    return {"x": x, "gamma": np.array([1.0, 2.0, 0.5]), "beta": np.array([0.0, 1.0, -1.0]),
            "eps": 1e-5}
