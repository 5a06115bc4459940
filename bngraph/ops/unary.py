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

from . import arrays
from .arrays import elementwise, namespace
from .broadcasting import same_shape
from .registry import define_op

__all__: list[str] = []


def abs(x: Any) -> Any:  # noqa: A001 - the op's name
    """|x|; its gradient at 0 is 0 (g × sign(x)), as in PyTorch."""
    return namespace(x).abs(x)


define_op(
    "abs", abs, [lambda g, out, x: g * namespace(x).sign(x)],
    shape=same_shape, label="|x|", saves=[0], rules=["g × sign({0})"],
)


def sign(x: Any) -> Any:
    """-1, 0 or 1 as x is negative, zero or positive; its gradient is zero
    everywhere, as in PyTorch."""
    return namespace(x).sign(x)


define_op(
    "sign", sign, [lambda g, out, x: None],
    shape=same_shape, label="sign", saves=[], rules=["0"],
)

define_op(
    "sin", elementwise("sin", np.sin, "The sine of x (radians)."),
    [lambda g, out, x: g * namespace(x).cos(x)],
    shape=same_shape, label="sin", saves=[0], rules=["g × cos({0})"],
)

define_op(
    "cos", elementwise("cos", np.cos, "The cosine of x (radians)."),
    [lambda g, out, x: -g * namespace(x).sin(x)],
    shape=same_shape, label="cos", saves=[0], rules=["−g × sin({0})"],
)

_LN2 = math.log(2.0)



def exp2(x: Any) -> Any:
    """2 to the power x."""
    xp = namespace(x)
    return np.exp2(x) if xp is np else xp.pow(2.0, x)  # the standard has no exp2


define_op(
    "exp2", exp2, [lambda g, out, x: g * out * _LN2],
    shape=same_shape, label="2^x", saves=["out"], rules=["g × {out} × ln 2"],
)

define_op(
    "log1p", elementwise("log1p", np.log1p, "log(1 + x), accurate for small x."),
    [lambda g, out, x: g / (1 + x)],
    shape=same_shape, label="log(1+x)", saves=[0], rules=["g ÷ (1 + {0})"],
)

define_op(
    "expm1", elementwise("expm1", np.expm1, "exp(x) − 1, accurate for small x."),
    [lambda g, out, x: g * (out + 1)],
    shape=same_shape, label="eˣ−1", saves=["out"], rules=["g × ({out} + 1)"],
)

_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)


def erf(x: Any) -> Any:
    """The error function, (2/√π) ∫₀ˣ exp(−t²) dt (scipy's ``special.erf``; on dask chunk
    by chunk, on torch, CuPy and JAX their own; the array API standard has none)."""
    return arrays.erf(x)


define_op(
    "erf", erf, [lambda g, out, x: g * (_TWO_OVER_SQRT_PI * namespace(x).exp(-(x * x)))],
    shape=same_shape, label="erf", saves=[0], rules=["g × 2/√π·exp(−{0}²)"],
)
