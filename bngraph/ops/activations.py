"""Activations: ``sigmoid``, ``softplus``, ``gelu`` and ``clip`` (``relu`` is with the
arithmetic in ``elementwise``). Each follows ``torch.nn.functional`` in its values,
its gradients and its conventions at the edges.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("clip").forward(np.array([-2.0, 0.5, 3.0]), 0.0, 1.0)
array([0. , 0.5, 1. ])
>>> get_op("clip").vjps[0](np.ones(3), None, np.array([0.0, 0.5, 1.0]), lo=0.0, hi=1.0)
array([1., 1., 1.])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from .arrays import erf, namespace, where
from .broadcasting import same_shape
from .registry import define_op

__all__: list[str] = []


def sigmoid(x: Any) -> Any:
    """The logistic function 1 / (1 + exp(−x)), computed without overflow for any x."""
    xp = namespace(x)
    e = xp.exp(-xp.abs(x))  # at most 1: never overflows
    if xp is np:
        return np.where(np.asarray(x) >= 0, 1 / (1 + e), e / (1 + e))
    return xp.where(x >= 0, 1 / (1 + e), e / (1 + e))


define_op(
    "sigmoid", sigmoid, [lambda g, out, x: g * (out * (1 - out))],
    shape=same_shape, label="σ", saves=["out"], rules=["g × {out}(1 − {out})"],
)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Any:
    """log(1 + exp(beta·x)) / beta, and x itself where beta·x > threshold, as in
    PyTorch's ``softplus``; computed without overflow."""
    bx = x * beta
    xp = namespace(bx)
    smooth = (xp.maximum(bx, 0) + xp.log1p(xp.exp(-xp.abs(bx)))) / beta
    return where(bx > threshold, x, smooth)


def _softplus_vjp(g: Any, out: Any, x: Any, *, beta: float, threshold: float) -> Any:
    bx = x * beta
    return where(bx > threshold, g, g * sigmoid(bx))


define_op(
    "softplus", softplus, [_softplus_vjp],
    shape=same_shape, label="softplus", saves=[0], rules=["g × σ(β·{0})"],
)

_SQRT_HALF = math.sqrt(0.5)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)
_CUBIC = 0.044715


def gelu(x: Any, approximate: Literal["none", "tanh"] = "none") -> Any:
    """x·Φ(x), Φ the standard normal distribution function: exactly with
    ``approximate="none"`` (through erf), or PyTorch's tanh approximation
    0.5·x·(1 + tanh(√(2/π)(x + 0.044715x³))) with ``approximate="tanh"``."""
    if approximate == "tanh":
        return 0.5 * x * (1 + namespace(x).tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x * x * x)))
    return 0.5 * x * (1 + erf(x * _SQRT_HALF))


def _gelu_vjp(g: Any, out: Any, x: Any, *, approximate: str) -> Any:
    xp = namespace(x)
    if approximate == "tanh":
        t = xp.tanh(_SQRT_2_OVER_PI * (x + _CUBIC * x * x * x))
        slope = 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * _SQRT_2_OVER_PI * (1 + 3 * _CUBIC * x * x)
        return g * slope
    cdf = 0.5 * (1 + erf(x * _SQRT_HALF))
    return g * (cdf + x * _INV_SQRT_2PI * xp.exp(-0.5 * x * x))


def _gelu_rule(params: Mapping[str, Any]) -> str:
    if params["approximate"] == "tanh":
        return "g × d/dx of the tanh form at {0}"
    return "g × (Φ({0}) + {0}·φ({0}))"


define_op(
    "gelu", gelu, [_gelu_vjp],
    shape=same_shape,
    label=lambda p: "gelu" if p["approximate"] == "none" else "gelu (tanh)",
    saves=[0], rules=[_gelu_rule],
)


def clip(x: Any, lo: Any = None, hi: Any = None) -> Any:
    """x limited to [lo, hi] (constant bounds; either may be None), as ``torch.clamp``:
    the gradient passes where lo ≤ x ≤ hi, bounds included; with lo > hi every
    value is hi."""
    if lo is None and hi is None:
        raise ValueError("clip needs at least one bound: lo, hi or both")
    xp = namespace(x)
    if lo is None:
        return xp.minimum(x, hi)
    if hi is None:
        return xp.maximum(x, lo)
    return xp.minimum(xp.maximum(x, lo), hi)


def _clip_vjp(g: Any, out: Any, x: Any, *, lo: float | None, hi: float | None) -> Any:
    if lo is not None and hi is not None:
        inside = (x >= lo) & (x <= hi)
    else:
        inside = x >= lo if lo is not None else x <= hi
    return where(inside, g, 0.0)


def _clip_label(params: Mapping[str, Any]) -> str:
    lo, hi = params["lo"], params["hi"]
    return f"clip [{'−∞' if lo is None else f'{lo:g}'}, {'∞' if hi is None else f'{hi:g}'}]"


define_op(
    "clip", clip, [_clip_vjp],
    shape=same_shape, label=_clip_label, saves=[0], rules=["g where lo ≤ {0} ≤ hi"],
)
