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

from ..graph import Graph
from .stages import scale_and_shift_channels, standardize

__all__ = ["build", "example"]

AXES = (0, 2, 3)


def build() -> Graph:
    """Stages as in ``batchnorm``, reducing over batch, height and width."""
    g = Graph("batchnorm_spatial")
    x = g.input("x", shape=("N", "C", "H", "W"))
    gamma = g.input("gamma", shape=("C",))
    beta = g.input("beta", shape=("C",))
    eps = g.input("eps", default=1e-5)
    xhat = standardize(g, x, eps, axis=AXES, keepdims=True)
    g.output(scale_and_shift_channels(g, xhat, gamma, beta, first=8))
    return g


def example() -> dict[str, Any]:
    """A small deterministic batch: 2 images of 3 channels, 2x2 pixels."""
    x = np.sin(np.arange(24.0)).reshape(2, 3, 2, 2) * 3 + np.arange(3.0).reshape(3, 1, 1)
    return {"x": x, "gamma": np.array([1.0, 2.0, 0.5]), "beta": np.array([0.0, 1.0, -1.0]),
            "eps": 1e-5}
