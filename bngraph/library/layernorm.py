"""Layer normalization: statistics over the last axis of x (N, D), gamma and beta per feature.

>>> import numpy as np
>>> run = build().forward(**example(), keep_values=True)
>>> xhat = run.value("xhat")
>>> bool(np.allclose(xhat.mean(axis=1), 0.0) and np.allclose(xhat.var(axis=1), 1.0, atol=1e-4))
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import Graph
from .stages import standardize

__all__ = ["build", "example"]


def build() -> Graph:
    """The nine stages of ``batchnorm``, reducing over features instead of the batch."""
    g = Graph("layernorm")
    x = g.input("x", shape=("N", "D"))
    gamma = g.input("gamma", shape=("D",))
    beta = g.input("beta", shape=("D",))
    eps = g.input("eps", default=1e-5)
    xhat = standardize(g, x, eps, axis=-1, keepdims=True)
    with g.stage("8 scale"):
        gammax = (gamma * xhat).named("gammax")
    with g.stage("9 shift"):
        out = (gammax + beta).named("out")
    g.output(out)
    return g


def example() -> dict[str, Any]:
    """Three rows of five features, gamma = 1, beta = 0 (zero gamma would hide dx)."""
    x = np.cos(np.arange(15.0)).reshape(3, 5) * 2 + np.arange(3.0).reshape(3, 1)
    return {"x": x, "gamma": np.linspace(0.5, 1.5, 5), "beta": np.linspace(-1.0, 1.0, 5),
            "eps": 1e-5}
