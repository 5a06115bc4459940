"""A two-layer perceptron with a relu between the layers and softmax cross-entropy on top.

>>> import numpy as np
>>> run = build().forward(**example())
>>> sorted(run.backward())       # the labels are a constant: no gradient
['b1', 'b2', 'w1', 'w2', 'x']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functions as F
from ..graph import Graph
from .softmax_cross_entropy import cross_entropy

__all__ = ["build", "example"]


def build() -> Graph:
    """``loss = cross_entropy(relu(x @ w1 + b1) @ w2 + b2, labels)``."""
    g = Graph("mlp")
    x = g.input("x", shape=("N", "D"))
    w1, b1 = g.input("w1", shape=("D", "H")), g.input("b1", shape=("H",))
    w2, b2 = g.input("w2", shape=("H", "K")), g.input("b2", shape=("K",))
    labels = g.input("labels", shape=("N",), grad=False)
    with g.stage("1 hidden"):
        z1 = ((x @ w1).named("xw1") + b1).named("z1")
    with g.stage("2 relu"):
        h = F.relu(z1, name="h")
    with g.stage("3 logits"):
        logits = ((h @ w2).named("hw2") + b2).named("logits")
    g.output(cross_entropy(g, logits, labels, first=4))
    return g


def example() -> dict[str, Any]:
    """Five samples of four features, six hidden units, three classes."""
    rows = np.arange(5.0).reshape(5, 1)
    return {
        "x": np.cos(rows * 1.3 + np.arange(4.0) * 0.7),
        "w1": np.sin(np.arange(24.0) * 0.9).reshape(4, 6) * 0.8,
        "b1": np.linspace(-0.2, 0.3, 6),
        "w2": np.cos(np.arange(18.0) * 1.1).reshape(6, 3),
        "b2": np.array([0.1, 0.0, -0.1]),
        "labels": np.array([0, 2, 1, 1, 0]),
    }
