"""Elementwise ops: arithmetic with numpy broadcasting, and unary functions.

Each op is registered with its forward (a C function of ``operator`` or a numpy
ufunc where one exists: they are on the scheduler's hot path) and its
vector-Jacobian rules, which may return gradients at the broadcast shape; the
engine sums them back.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("mul").vjps[0](np.ones(2), None, np.array([1., 2.]), np.array([3., 4.]))
array([3., 4.])
"""

from __future__ import annotations

import operator
from collections.abc import Mapping
from typing import Any

import numpy as np

from .broadcasting import Shape, broadcast_shapes, unbroadcast
from .registry import define_op

__all__: list[str] = []


def _same_shape(x: Shape) -> Shape:
    return x


def _binary_shape(x: Shape, y: Shape) -> Shape:
    return broadcast_shapes(x, y)


define_op("add", operator.add, [lambda g, out, x, y: g, lambda g, out, x, y: g],
          _binary_shape, "+", saves=[])


def _sub_vjp_y(g: Any, out: Any, x: Any, y: Any) -> Any:
    # reduce before negating: one small array instead of a second full-size one
    return -unbroadcast(g, getattr(y, "shape", ()))


define_op("sub", operator.sub, [lambda g, out, x, y: g, _sub_vjp_y],
          _binary_shape, "−", saves=[])

define_op("mul", operator.mul, [lambda g, out, x, y: g * y, lambda g, out, x, y: g * x],
          _binary_shape, "×", saves=[0, 1])


define_op("div", operator.truediv,
          [lambda g, out, x, y: g / y, lambda g, out, x, y: -g * out / y],
          _binary_shape, "÷", saves=[1, "out"])

define_op("neg", operator.neg, [lambda g, out, x: -g], _same_shape, "−x", saves=[])


def pow(x: Any, exponent: float) -> Any:  # noqa: A001 - the op's name
    return x ** exponent


def _pow_vjp(g: Any, out: Any, x: Any, exponent: float) -> Any:
    if exponent == 2:
        return g * (2 * x)
    return g * (exponent * x ** (exponent - 1))


def _pow_label(params: Mapping[str, Any]) -> str:
    return f"x^{params['exponent']:g}"


define_op("pow", pow, [_pow_vjp], lambda x, exponent: x, _pow_label, saves=[0])


def square(x: Any) -> Any:
    return x * x


define_op("square", square, [lambda g, out, x: g * (2 * x)], _same_shape, "x²", saves=[0])


define_op("sqrt", np.sqrt, [lambda g, out, x: g / (2 * out)], _same_shape, "√x", saves=["out"])


def reciprocal(x: Any) -> Any:
    return 1 / x


define_op("reciprocal", reciprocal, [lambda g, out, x: -g * (out * out)],
          _same_shape, "1/x", saves=["out"])


define_op("exp", np.exp, [lambda g, out, x: g * out], _same_shape, "exp", saves=["out"])


define_op("log", np.log, [lambda g, out, x: g / x], _same_shape, "log", saves=[0])


define_op("tanh", np.tanh, [lambda g, out, x: g * (1 - out * out)], _same_shape, "tanh",
          saves=["out"])


def relu(x: Any) -> Any:
    return np.maximum(x, 0)


define_op("relu", relu, [lambda g, out, x: g * (out > 0)], _same_shape, "relu", saves=["out"])
