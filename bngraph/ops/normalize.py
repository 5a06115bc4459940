"""The exponential normalizers: ``softmax``, ``log_softmax`` and ``logsumexp``.

All three subtract the maximum before exponentiating, so that no logit is too
large: ``softmax(1000 * x)`` is as exact as ``softmax(x)``.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("softmax").forward(np.array([1000.0, 1000.0]))
array([0.5, 0.5])
>>> float(get_op("logsumexp").forward(np.array([1000.0, 1000.0])))  # 1000 + log 2
1000.6931471805599
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from .arrays import namespace, reshape, total, where
from .broadcasting import Shape, format_shape
from .reduce import Axis, normalize_axes, reduced_shape
from .registry import define_op

__all__: list[str] = []


def _shifted(x: Any, axis: Axis) -> Any:
    """x minus its maximum over ``axis`` (kept); an infinite maximum shifts by 0."""
    xp = namespace(x)
    top = xp.max(x, axis=axis, keepdims=True)
    return x - where(xp.isfinite(top), top, 0.0)


def _log_total(shifted: Any, axis: Axis) -> Any:
    xp = namespace(shifted)
    with np.errstate(divide="ignore"):  # log 0 = −∞ for an axis that is all −∞
        return xp.log(total(xp.exp(shifted), axis, True))


def _one_axis_shape(x: Shape, *, axis: int) -> Shape:
    if not -len(x) <= axis < len(x):
        raise ShapeError(f"axis {axis} is out of range for shape {format_shape(x)}")
    return x


def _axis_label(name: str) -> Any:
    return lambda params: f"{name} axis={params['axis']}"


def softmax(x: Any, axis: int = -1) -> Any:
    """exp(x) / Σ exp(x) over ``axis`` (the last by default), computed stably."""
    shifted = _shifted(x, axis)
    e = namespace(shifted).exp(shifted)
    return e / total(e, axis, True)


def _softmax_vjp(g: Any, out: Any, x: Any, *, axis: int) -> Any:
    return out * (g - total(g * out, axis, True))


define_op(
    "softmax", softmax, [_softmax_vjp],
    shape=_one_axis_shape, label=_axis_label("softmax"), saves=["out"],
    rules=["{out} × (g − Σ g·{out})"],
)


def log_softmax(x: Any, axis: int = -1) -> Any:
    """x − log Σ exp(x) over ``axis`` (the last by default), computed stably."""
    shifted = _shifted(x, axis)
    return shifted - _log_total(shifted, axis)


def _log_softmax_vjp(g: Any, out: Any, x: Any, *, axis: int) -> Any:
    return g - namespace(out).exp(out) * total(g, axis, True)


define_op(
    "log_softmax", log_softmax, [_log_softmax_vjp],
    shape=_one_axis_shape, label=_axis_label("log_softmax"), saves=["out"],
    rules=["g − exp({out}) × Σ g"],
)


def logsumexp(x: Any, *, axis: Axis = None, keepdims: bool = False) -> Any:
    """log Σ exp(x) over ``axis`` (an int, a tuple of ints, or None for all), stably;
    its gradient is the softmax of x over the same axes."""
    xp = namespace(x)
    top = xp.max(x, axis=axis, keepdims=True)
    top = where(xp.isfinite(top), top, 0.0)
    value = _log_total(x - top, axis) + top
    if keepdims:
        return value
    return xp.squeeze(value, axis=normalize_axes(axis, value.ndim))


def _logsumexp_vjp(g: Any, out: Any, x: Any, *, axis: Axis, keepdims: bool) -> Any:
    xp = namespace(x)
    if not keepdims:
        kept = _kept_shape(x, axis)
        g, out = _as_shape(g, kept), _as_shape(out, kept)
    return g * xp.exp(x - out)


def _kept_shape(x: Any, axis: Axis) -> tuple[int, ...]:
    shape = tuple(np.shape(x)) if namespace(x) is np else tuple(x.shape)
    axes = normalize_axes(axis, len(shape))
    return tuple(1 if k in axes else d for k, d in enumerate(shape))


def _as_shape(value: Any, shape: tuple[int, ...]) -> Any:
    """A reduced value or gradient with its reduced axes back as size 1 (numbers too)."""
    return np.reshape(value, shape) if namespace(value) is np else reshape(value, shape)


def _lse_label(params: Mapping[str, Any]) -> str:
    axis = params["axis"]
    return "logsumexp" + ("" if axis is None else f" axis={axis}")


define_op(
    "logsumexp", logsumexp, [_logsumexp_vjp],
    shape=reduced_shape, label=_lse_label, saves=[0, "out"],
    rules=["g × exp({0} − {out}) (the softmax of {0})"],
)
