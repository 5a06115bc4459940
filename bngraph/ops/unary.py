"""Unary functions: ``abs``, ``sign``, ``sin``, ``cos``, ``exp2``, ``log1p``, ``expm1``, ``erf``.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("abs").vjps[0](np.ones(3), None, np.array([-2.0, 0.0, 3.0]))
array([-1.,  0.,  1.])
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .broadcasting import same_shape
from .registry import define_op

__all__: list[str] = []


def abs(x: Any) -> Any:  # noqa: A001 - the op's name
    """|x|; its gradient at 0 is 0 (g × sign(x)), as in PyTorch."""
    return np.abs(x)


define_op(
    "abs", abs, [lambda g, out, x: g * np.sign(x)],
    shape=same_shape, label="|x|", saves=[0], rules=["g × sign({0})"],
)


def sign(x: Any) -> Any:
    """-1, 0 or 1 as x is negative, zero or positive; its gradient is zero
    everywhere, as in PyTorch."""
    return np.sign(x)


define_op(
    "sign", sign, [lambda g, out, x: None],
    shape=same_shape, label="sign", saves=[], rules=["0"],
)

define_op(
    "sin", np.sin, [lambda g, out, x: g * np.cos(x)],
    shape=same_shape, label="sin", saves=[0], rules=["g × cos({0})"],
    doc="The sine of x (radians).",
)

define_op(
    "cos", np.cos, [lambda g, out, x: -g * np.sin(x)],
    shape=same_shape, label="cos", saves=[0], rules=["−g × sin({0})"],
    doc="The cosine of x (radians).",
)

_LN2 = math.log(2.0)

define_op(
    "exp2", np.exp2, [lambda g, out, x: g * out * _LN2],
    shape=same_shape, label="2^x", saves=["out"], rules=["g × {out} × ln 2"],
    doc="2 to the power x.",
)

define_op(
    "log1p", np.log1p, [lambda g, out, x: g / (1 + x)],
    shape=same_shape, label="log(1+x)", saves=[0], rules=["g ÷ (1 + {0})"],
    doc="log(1 + x), accurate for small x.",
)

define_op(
    "expm1", np.expm1, [lambda g, out, x: g * (out + 1)],
    shape=same_shape, label="eˣ−1", saves=["out"], rules=["g × ({out} + 1)"],
    doc="exp(x) − 1, accurate for small x.",
)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erf(x: Any) -> Any:
    """The error function, (2/√π) ∫₀ˣ exp(−t²) dt (scipy's ``special.erf``)."""
    from scipy.special import erf as scipy_erf  # imported on first use: scipy is large

    return scipy_erf(x)


define_op(
    "erf", erf, [lambda g, out, x: g * (_TWO_OVER_SQRT_PI * np.exp(-(x * x)))],
    shape=same_shape, label="erf", saves=[0], rules=["g × 2/√π·exp(−{0}²)"],
)
