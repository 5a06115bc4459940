"""The closed form of scaled dot-product attention with a mask, one head.

With ``P = softmax(where(mask, scale · q kᵀ, −1e9))`` and ``out = P v``:
``dv = Pᵀ dout``, ``dP = dout vᵀ``, ``dS = P ∘ (dP − Σ dP ∘ P)`` (zero where masked),
``dq = scale · dS k`` and ``dk = scale · dSᵀ q``.

>>> import numpy as np
>>> q = k = v = np.eye(2)[np.newaxis]
>>> out, cache = attention_forward(q, k, v, np.tril(np.ones((2, 2))), 1.0)
>>> out[0, 0]                    # the first query sees only the first key
array([1., 0.])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["MASKED", "AttentionCache", "attention_forward", "attention_backward"]

MASKED = -1e9
"""The score a masked position gets: exp(−1e9 − max) is exactly 0 in float64."""


class AttentionCache(NamedTuple):
    """What the backward pass reads."""

    q: np.ndarray
    k: np.ndarray
    v: np.ndarray
    keep: np.ndarray
    weights: np.ndarray
    scale: float


def _swap(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


def attention_forward(
    q: Any, k: Any, v: Any, mask: Any, scale: Any
) -> tuple[np.ndarray, AttentionCache]:
    """``softmax(where(mask, scale · q kᵀ, −1e9)) v`` over the keys; mask non-zero keeps."""
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    keep = np.asarray(mask) != 0
    scores = np.where(keep, scale * (q @ _swap(k)), MASKED)
    shifted = np.exp(scores - scores.max(axis=-1, keepdims=True))
    weights = shifted / shifted.sum(axis=-1, keepdims=True)
    return weights @ v, AttentionCache(q, k, v, keep, weights, float(scale))


def attention_backward(dout: Any, cache: AttentionCache) -> dict[str, np.ndarray]:
    """Gradients of q, k and v; the mask and the scale are constants."""
    q, k, v, keep, weights, scale = cache
    dout = np.asarray(dout, dtype=np.float64)
    dweights = dout @ _swap(v)
    dscores = weights * (dweights - (dweights * weights).sum(axis=-1, keepdims=True))
    dscores = np.where(keep, dscores, 0.0) * scale
    return {"q": dscores @ k, "k": _swap(dscores) @ q, "v": _swap(weights) @ dout}
