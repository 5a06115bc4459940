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

from .arrays import elementwise, namespace, where
from .broadcasting import Shape, broadcast_shapes, unbroadcast
from .registry import define_op

__all__: list[str] = []


def _same_shape(x: Shape, **params: Any) -> Shape:
    return x


def _binary_shape(x: Shape, y: Shape) -> Shape:
    return broadcast_shapes(x, y)


def _identity_vjp(g: Any, out: Any, x: Any, y: Any) -> Any:
    return g


define_op(
    "add", operator.add, [_identity_vjp, _identity_vjp],
    shape=_binary_shape, label="+", saves=[], rules=["g", "g"],
    doc="x + y, with numpy broadcasting.",
)


def _sub_vjp_y(g: Any, out: Any, x: Any, y: Any) -> Any:
    # reduce before negating: one small array instead of a second full-size one
    return -unbroadcast(g, getattr(y, "shape", ()))


define_op(
    "sub", operator.sub, [_identity_vjp, _sub_vjp_y],
    shape=_binary_shape, label="−", saves=[], rules=["g", "−g"],
    doc="x − y, with numpy broadcasting.",
)

define_op(
    "mul", operator.mul, [lambda g, out, x, y: g * y, lambda g, out, x, y: g * x],
    shape=_binary_shape, label="×", saves=[0, 1], rules=["g × {1}", "g × {0}"],
    doc="x × y, with numpy broadcasting.",
)

define_op(
    "div", operator.truediv,
    [lambda g, out, x, y: g / y, lambda g, out, x, y: -g * out / y],
    shape=_binary_shape, label="÷", saves=[1, "out"], rules=["g ÷ {1}", "−g × {out} ÷ {1}"],
    doc="x ÷ y, with numpy broadcasting.",
)

define_op(
    "neg", operator.neg, [lambda g, out, x: -g],
    shape=_same_shape, label="−x", saves=[], rules=["−g"], doc="−x.",
)


def pow(x: Any, *, exponent: float) -> Any:  # noqa: A001 - the op's name
    """x to a constant power: ``x ** 2`` in the builder, ``pow(x, exponent=2)``."""
    return x ** exponent


def _pow_vjp(g: Any, out: Any, x: Any, *, exponent: float) -> Any:
    if exponent == 2:
        return g * (2 * x)
    return g * (exponent * x ** (exponent - 1))


def _pow_rule(params: Mapping[str, Any]) -> str:
    exponent = params["exponent"]
    if exponent == 2:
        return "g × 2·{0}"
    return f"g × {exponent:g}·{{0}}^{exponent - 1:g}"


define_op(
    "pow", pow, [_pow_vjp],
    shape=_same_shape, label=lambda p: f"x^{p['exponent']:g}", saves=[0], rules=[_pow_rule],
)


def square(x: Any) -> Any:
    """x × x."""
    return x * x


define_op(
    "square", square, [lambda g, out, x: g * (2 * x)],
    shape=_same_shape, label="x²", saves=[0], rules=["g × 2·{0}"],
)

define_op(
    "sqrt", elementwise("sqrt", np.sqrt, "The square root of x."),
    [lambda g, out, x: g / (2 * out)],
    shape=_same_shape, label="√x", saves=["out"], rules=["g ÷ (2·{out})"],
)


def reciprocal(x: Any) -> Any:
    """1 ÷ x."""
    return 1 / x


define_op(
    "reciprocal", reciprocal, [lambda g, out, x: -g * (out * out)],
    shape=_same_shape, label="1/x", saves=["out"], rules=["−g × {out}²"],
)

define_op(
    "exp", elementwise("exp", np.exp, "e to the power x."), [lambda g, out, x: g * out],
    shape=_same_shape, label="exp", saves=["out"], rules=["g × {out}"],
)

define_op(
    "log", elementwise("log", np.log, "The natural logarithm of x."),
    [lambda g, out, x: g / x],
    shape=_same_shape, label="log", saves=[0], rules=["g ÷ {0}"],
)

define_op(
    "tanh", elementwise("tanh", np.tanh, "The hyperbolic tangent of x."),
    [lambda g, out, x: g * (1 - out * out)],
    shape=_same_shape, label="tanh", saves=["out"], rules=["g × (1 − {out}²)"],
)


def relu(x: Any) -> Any:
    """max(x, 0); its gradient at 0 is 0, as in PyTorch."""
    return namespace(x).maximum(x, 0)


def _relu_vjp(g: Any, out: Any, x: Any) -> Any:
    if type(out) is np.ndarray or type(out) is float:
        return g * (out > 0)
    return where(out > 0, g, 0.0)  # the standard multiplies no booleans


define_op(
    "relu", relu, [_relu_vjp],
    shape=_same_shape, label="relu", saves=["out"], rules=["g × ({out} > 0)"],
)
