"""Reductions: ``sum`` and ``mean`` over an axis, a tuple of axes, or everything.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("mean").shape(("N", "D"), axis=0, keepdims=False)
('D',)
>>> get_op("mean").vjps[0](np.ones(2), None, np.zeros((3, 2)), axis=0, keepdims=False)
array([[0.33333333, 0.33333333],
       [0.33333333, 0.33333333],
       [0.33333333, 0.33333333]])
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

import numpy as np

from ..errors import ShapeError
from .broadcasting import Shape, broadcast_view
from .registry import define_op

__all__ = ["normalize_axes"]

Axis = int | tuple[int, ...] | None


def normalize_axes(axis: Axis, ndim: int) -> tuple[int, ...]:
    """The reduced axes as non-negative ints; ``None`` means every axis.

    >>> normalize_axes(-1, 3), normalize_axes(None, 2), normalize_axes((0, 2), 4)
    ((2,), (0, 1), (0, 2))
    """
    if axis is None:
        return tuple(range(ndim))
    if type(axis) is int and 0 <= axis < ndim:
        return (axis,)
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    normalized = []
    for a in axes:
        if not -ndim <= a < ndim:
            raise ShapeError(f"axis {a} is out of range for an array of {ndim} dimension(s)")
        normalized.append(a % ndim)
    if len(set(normalized)) != len(normalized):
        raise ShapeError(f"axis {axis} repeats an axis")
    return tuple(sorted(normalized))


def _reduced_shape(x: Shape, *, axis: Axis, keepdims: bool) -> Shape:
    axes = normalize_axes(axis, len(x))
    if keepdims:
        return tuple(1 if k in axes else d for k, d in enumerate(x))
    return tuple(d for k, d in enumerate(x) if k not in axes)


@lru_cache(maxsize=1024)
def _layout(shape: tuple[int, ...], axis: Axis) -> tuple[int, tuple[int, ...]]:
    """How many elements each output element reduces, and the shape with kept dims."""
    axes = normalize_axes(axis, len(shape))
    count = math.prod(shape[a] for a in axes)
    return count, tuple(1 if k in axes else d for k, d in enumerate(shape))


def _spread(g: Any, x: Any, axis: Axis, keepdims: bool, mean: bool) -> Any:
    """Broadcast a reduced gradient back over the axes it was reduced from (a view)."""
    shape = getattr(x, "shape", ())
    count, kept = _layout(shape, axis)
    if mean:
        g = g * (1.0 / count) if count else g
    if not keepdims:
        g = g.reshape(kept) if type(g) is np.ndarray else np.reshape(g, kept)
    return broadcast_view(g, shape)


def _axis_label(name: str) -> Any:
    def label(params: Mapping[str, Any]) -> str:
        axis = params["axis"]
        where = "" if axis is None else f" axis={axis}"
        return f"{name}{where}" + (" keepdims" if params["keepdims"] else "")

    return label


def _spread_rule(scaled: str) -> Any:
    def rule(params: Mapping[str, Any]) -> str:
        axis = params["axis"]
        where = "every axis" if axis is None else f"axis {axis}"
        return f"{scaled} broadcast back over {where}"

    return rule


def sum(x: Any, *, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """The sum of x over ``axis`` (an int, a tuple of ints, or None for all)."""
    return np.sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g: Any, out: Any, x: Any, *, axis: Axis, keepdims: bool) -> Any:
    return _spread(g, x, axis, keepdims, False)


define_op(
    "sum", sum, [_sum_vjp],
    shape=_reduced_shape, label=_axis_label("Σ"), saves=[], rules=[_spread_rule("g")],
)


def mean(x: Any, *, axis: Axis = None, keepdims: bool = False) -> Any:
    """The mean of x over ``axis`` (an int, a tuple of ints, or None for all)."""
    # the sum divided by the count, as np.mean computes it, without its overhead
    count, _ = _layout(getattr(x, "shape", ()), axis)
    return np.add.reduce(x, axis=axis, keepdims=keepdims) / count  # type: ignore[call-overload]


def _mean_vjp(g: Any, out: Any, x: Any, *, axis: Axis, keepdims: bool) -> Any:
    return _spread(g, x, axis, keepdims, True)


define_op(
    "mean", mean, [_mean_vjp],
    shape=_reduced_shape, label=_axis_label("mean"), saves=[], rules=[_spread_rule("g/N")],
)
