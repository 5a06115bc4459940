"""Closed forms of the classification graphs: softmax cross-entropy of logits against
integer labels, and the two-layer perceptron under it.

With ``p = softmax(logits)`` and ``y`` the one-hot labels, the mean cross-entropy
over N rows has the gradient ``(p − y) / N``: the whole backward pass of the loss.

>>> import numpy as np
>>> loss, cache = softmax_cross_entropy_forward(np.zeros((2, 4)), np.array([1, 3]))
>>> round(float(loss), 6) == round(float(np.log(4)), 6)
True
>>> softmax_cross_entropy_backward(1.0, cache)["logits"][0]
array([ 0.125, -0.375,  0.125,  0.125])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "CrossEntropyCache", "softmax_cross_entropy_forward", "softmax_cross_entropy_backward",
    "MLPCache", "mlp_forward", "mlp_backward",
]


class CrossEntropyCache(NamedTuple):
    """The softmax of the logits, and the labels as integers."""

    probs: np.ndarray
    labels: np.ndarray


def _labels(labels: Any) -> np.ndarray:
    return np.asarray(labels).astype(np.intp)


def softmax_cross_entropy_forward(logits: Any, labels: Any) -> tuple[Any, CrossEntropyCache]:
    """The mean over rows of ``logsumexp(logits[i]) − logits[i, labels[i]]``."""
    logits = np.asarray(logits, dtype=np.float64)
    labels = _labels(labels)
    rows = np.arange(logits.shape[0])
    top = logits.max(axis=1, keepdims=True)
    lse = top + np.log(np.exp(logits - top).sum(axis=1, keepdims=True))
    loss = np.mean(lse[:, 0] - logits[rows, labels])
    return loss, CrossEntropyCache(np.exp(logits - lse), labels)


def softmax_cross_entropy_backward(dloss: Any, cache: CrossEntropyCache) -> dict[str, np.ndarray]:
    """``dlogits = dloss · (softmax(logits) − one_hot(labels)) / N``; labels get none."""
    probs, labels = cache
    grad = probs.copy()
    grad[np.arange(len(labels)), labels] -= 1.0
    return {"logits": grad * (np.asarray(dloss) / len(labels))}


class MLPCache(NamedTuple):
    """What the backward pass of the perceptron reads."""

    x: np.ndarray
    w1: np.ndarray
    w2: np.ndarray
    z1: np.ndarray
    h: np.ndarray
    loss: CrossEntropyCache


def mlp_forward(x: Any, w1: Any, b1: Any, w2: Any, b2: Any, labels: Any) -> tuple[Any, MLPCache]:
    """``loss = cross_entropy(relu(x @ w1 + b1) @ w2 + b2, labels)``."""
    x, w1, w2 = (np.asarray(a, dtype=np.float64) for a in (x, w1, w2))
    z1 = x @ w1 + b1
    h = np.maximum(z1, 0.0)
    loss, cache = softmax_cross_entropy_forward(h @ w2 + b2, labels)
    return loss, MLPCache(x, w1, w2, z1, h, cache)


def _bias_grad(g: np.ndarray, given: Any) -> np.ndarray:
    full = g.sum(axis=0)
    return np.asarray(full.sum()) if np.ndim(given) == 0 else full


def mlp_backward(
    dloss: Any, cache: MLPCache, b1: Any = 0.0, b2: Any = 0.0
) -> dict[str, np.ndarray]:
    """Gradients of x, the weights and the biases (each bias in the shape given)."""
    dlogits = softmax_cross_entropy_backward(dloss, cache.loss)["logits"]
    dh = dlogits @ cache.w2.T
    dz1 = dh * (cache.z1 > 0)
    return {
        "x": dz1 @ cache.w1.T,
        "w1": cache.x.T @ dz1,
        "b1": _bias_grad(dz1, b1),
        "w2": cache.h.T @ dlogits,
        "b2": _bias_grad(dlogits, b2),
    }
