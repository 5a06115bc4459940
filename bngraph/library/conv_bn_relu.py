"""A convolution block: conv2d, spatial batch normalization, relu.

The convolution is 3x3 with padding 1 (the image keeps its size); the batch
normalization is ``batchnorm_spatial``'s stages over (N, H, W) per output
channel, with gamma and beta per output channel.

>>> import numpy as np
>>> run = build().forward(**example())
>>> run.outputs["out"].shape, bool(run.outputs["out"].min() == 0)
((2, 3, 4, 4), True)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functions as F
from ..graph import Graph
from .stages import scale_and_shift_channels, standardize

__all__ = ["build", "example"]


def build() -> Graph:
    """``relu(batchnorm_spatial(conv2d(x, w, padding=1)))``."""
    g = Graph("conv_bn_relu")
    x = g.input("x", shape=("N", "C", "H", "W"))
    w = g.input("w", shape=("O", "C", 3, 3))
    gamma, beta = g.input("gamma", shape=("O",)), g.input("beta", shape=("O",))
    eps = g.input("eps", default=1e-5)
    with g.stage("1 conv"):
        y = F.conv2d(x, w, padding=1, name="y")
    xhat = standardize(g, y, eps, axis=(0, 2, 3), keepdims=True, first=2)
    bn = scale_and_shift_channels(g, xhat, gamma, beta, first=9, name="bn")
    with g.stage("11 relu"):
        g.output(F.relu(bn, name="out"))
    return g


def example() -> dict[str, Any]:
    """Two images of two channels, 4x4 pixels, into three channels."""
    x = np.sin(np.arange(64.0) * 0.61).reshape(2, 2, 4, 4) + np.arange(2.0).reshape(2, 1, 1)
    w = np.cos(np.arange(54.0) * 0.83).reshape(3, 2, 3, 3) * 0.5
    return {"x": x, "w": w, "gamma": np.array([1.0, 0.5, 2.0]),
            "beta": np.array([0.0, 0.5, -0.5]), "eps": 1e-5}
