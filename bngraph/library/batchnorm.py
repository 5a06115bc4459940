"""Batch normalization in the nine stages of its classic computational graph.

>>> g = build()
>>> g.names[4:]
('mu', 'xmu', 'sq', 'var', 'add_1', 'sqrtvar', 'ivar', 'xhat', 'gammax', 'out')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Graph
from .stages import standardize

__all__ = ["build", "example"]


def build() -> Graph:
    """The nine stages: mean, center, square, variance, std, invert, normalize, scale, shift."""
    g = Graph("batchnorm")
    x = g.input("x", shape=("N", "D"))
    gamma = g.input("gamma", shape=("D",))
    beta = g.input("beta", shape=("D",))
    eps = g.input("eps", default=1e-5)
    xhat = standardize(g, x, eps, axis=0)
    with g.stage("8 scale"):
        gammax = (gamma * xhat).named("gammax")
    with g.stage("9 shift"):
        out = (gammax + beta).named("out")
    g.output(out)
    return g


def example() -> dict[str, Any]:
    """The seed notebook's data: x = arange(20) as 5x4, gamma = 2, beta = 1, eps = 0.1."""
    return {"x": np.arange(20.0).reshape(5, 4), "gamma": 2.0, "beta": 1.0, "eps": 0.1}
