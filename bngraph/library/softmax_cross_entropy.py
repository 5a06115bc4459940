"""Softmax cross-entropy: logits (N, K) against integer labels (N,), averaged over rows.

The stages are the stable way to write it: log-softmax (which subtracts each
row's maximum), pick each row's log-probability of its label, and average; the
labels are indices and get no gradient.

>>> import numpy as np
>>> run = build().forward(**example())
>>> round(float(run.outputs["loss"]), 6)       # finite, though exp(800) overflows
0.687215
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functions as F
from ..graph import Graph, Node

__all__ = ["build", "example", "cross_entropy"]


def cross_entropy(g: Graph, logits: Node, labels: Node, *, first: int = 1) -> Node:
    """The mean of ``−log softmax(logits)[i, labels[i]]``, in three stages numbered from
    ``first``; nodes logp, index, picked, nll and loss."""
    with g.stage(f"{first} log-softmax"):
        logp = F.log_softmax(logits, axis=-1, name="logp")
    with g.stage(f"{first + 1} pick"):
        index = F.expand_dims(labels, axis=1, name="index")
        picked = F.take_along_axis(logp, index, axis=1, name="picked")
    with g.stage(f"{first + 2} mean"):
        nll = F.mean(picked, name="nll")
        return (-nll).named("loss")


def build() -> Graph:
    """The loss of logits against labels."""
    g = Graph("softmax_cross_entropy")
    logits = g.input("logits", shape=("N", "K"))
    labels = g.input("labels", shape=("N",), grad=False)
    g.output(cross_entropy(g, logits, labels))
    return g


def example() -> dict[str, Any]:
    """Four rows of three classes, one logit large enough to overflow exp in float64."""
    logits = np.array([[2.0, 0.5, -1.0], [0.0, 0.0, 0.0], [-1.0, 3.0, 0.5], [800.0, 799.0, 0.0]])
    return {"logits": logits, "labels": np.array([0, 2, 1, 1])}
