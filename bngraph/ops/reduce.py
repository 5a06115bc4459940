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
from .arrays import as_mask, inverse, namespace, reshape, total, where
from .broadcasting import Shape, broadcast_view, format_shape
from .registry import define_op

__all__ = ["normalize_axes", "reduced_shape", "Axis"]

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


def reduced_shape(x: Shape, *, axis: Axis, keepdims: bool, **params: Any) -> Shape:
    """The shape rule of a reduction over ``axis``; other parameters are ignored.

    >>> reduced_shape(("N", "D"), axis=0, keepdims=True)
    (1, 'D')
    """
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
        g = g.reshape(kept) if type(g) is np.ndarray else _reshape(g, kept)
    return broadcast_view(g, shape)


def _reshape(g: Any, shape: tuple[int, ...]) -> Any:
    """A reduced gradient with its reduced axes kept: numbers too (a weak seed)."""
    return np.reshape(g, shape) if namespace(g) is np else reshape(g, shape)


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
    if type(x) is np.ndarray:
        return np.sum(x, axis=axis, keepdims=keepdims)
    return namespace(x).sum(x, axis=axis, keepdims=keepdims)


def _sum_vjp(g: Any, out: Any, x: Any, *, axis: Axis, keepdims: bool) -> Any:
    return _spread(g, x, axis, keepdims, False)


define_op(
    "sum", sum, [_sum_vjp],
    shape=reduced_shape, label=_axis_label("Σ"), saves=[], rules=[_spread_rule("g")],
)


def mean(x: Any, *, axis: Axis = None, keepdims: bool = False) -> Any:
    """The mean of x over ``axis`` (an int, a tuple of ints, or None for all); the
    mean of no elements (an empty batch) is refused rather than NaN."""
    # the sum divided by the count, as np.mean computes it, without its overhead
    shape = getattr(x, "shape", ())
    count, _ = _layout(shape, axis)
    if count == 0:
        where = "every axis" if axis is None else f"axis {axis}"
        raise ShapeError(
            f"the mean over {where} of a value of shape {format_shape(shape)} is a mean of "
            "no elements: is the batch empty?"
        )
    return total(x, axis, keepdims) / count


def _mean_vjp(g: Any, out: Any, x: Any, *, axis: Axis, keepdims: bool) -> Any:
    return _spread(g, x, axis, keepdims, True)


define_op(
    "mean", mean, [_mean_vjp],
    shape=reduced_shape, label=_axis_label("mean"), saves=[], rules=[_spread_rule("g/N")],
)


def _kept(g: Any, x: Any, axis: Axis, keepdims: bool) -> Any:
    """A reduced value (or its gradient) with the reduced axes kept as size 1."""
    if keepdims:
        return np.asarray(g) if namespace(g) is np else g
    return _reshape(g, _layout(tuple(np.shape(x)) if namespace(x) is np else tuple(x.shape),
                               axis)[1])


def max(x: Any, *, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """The largest value of x over ``axis`` (an int, a tuple of ints, or None for all).

    Tied maxima share the gradient equally, as PyTorch's ``amax`` does.
    """
    return namespace(x).max(x, axis=axis, keepdims=keepdims)


def min(x: Any, *, axis: Axis = None, keepdims: bool = False) -> Any:  # noqa: A001
    """The smallest value of x over ``axis`` (an int, a tuple of ints, or None for all).

    Tied minima share the gradient equally, as PyTorch's ``amin`` does.
    """
    return namespace(x).min(x, axis=axis, keepdims=keepdims)


def _extreme_vjp(g: Any, out: Any, x: Any, *, axis: Axis, keepdims: bool) -> Any:
    g = _kept(g, x, axis, keepdims)
    x = np.asarray(x) if namespace(x) is np else x
    hits = x == _kept(out, x, axis, keepdims)
    ties = total(as_mask(hits, g), normalize_axes(axis, x.ndim), True)
    return where(hits, g / ties, 0.0)


def _share_rule(params: Mapping[str, Any]) -> str:
    axis = params["axis"]
    where = "" if axis is None else f" over axis {axis}"
    return "g to where {0} = {out}" + where + ", shared among ties"


define_op(
    "max", max, [_extreme_vjp],
    shape=reduced_shape, label=_axis_label("max"), saves=[0, "out"], rules=[_share_rule],
)
define_op(
    "min", min, [_extreme_vjp],
    shape=reduced_shape, label=_axis_label("min"), saves=[0, "out"], rules=[_share_rule],
)


def prod(x: Any, *, axis: Axis = None, keepdims: bool = False) -> Any:
    """The product of x over ``axis`` (an int, a tuple of ints, or None for all).

    Each entry's gradient is the product of the others (no division, so zeros
    are exact), as in PyTorch.
    """
    return namespace(x).prod(x, axis=axis, keepdims=keepdims)


def _others_product(x: Any, axes: tuple[int, ...]) -> Any:
    """For each entry, the product of the other entries of its reduction group."""
    xp = namespace(x)
    rest = [a for a in range(x.ndim) if a not in axes]
    order = rest + list(axes)
    shape = [x.shape[a] for a in order]
    kept = len(rest)
    flat = reshape(xp.permute_dims(x, tuple(order)), (*shape[:kept], math.prod(shape[kept:])))
    ones = xp.ones_like(flat[..., :1])
    before = _cumprod(xp, xp.concat([ones, flat[..., :-1]], axis=-1))
    reverse = xp.flip(flat, axis=-1)
    after = xp.flip(_cumprod(xp, xp.concat([ones, reverse[..., :-1]], axis=-1)), axis=-1)
    others = reshape(before * after, shape)
    return xp.permute_dims(others, inverse(order))


def _cumprod(xp: Any, x: Any) -> Any:
    """The running product along the last axis."""
    return np.cumprod(x, axis=-1) if xp is np else xp.cumulative_prod(x, axis=-1)


def _prod_vjp(g: Any, out: Any, x: Any, *, axis: Axis, keepdims: bool) -> Any:
    xp = namespace(x)
    x = np.asarray(x) if xp is np else x
    if math.prod(x.shape) == 0:
        return xp.zeros_like(x)
    return _kept(g, x, axis, keepdims) * _others_product(x, normalize_axes(axis, x.ndim))


define_op(
    "prod", prod, [_prod_vjp],
    shape=reduced_shape, label=_axis_label("Π"), saves=[0],
    rules=["g × the product of the other entries"],
)


def _moments(x: Any, axis: Axis, correction: float) -> tuple[Any, Any, Any]:
    """x − mean, the sum of its squares, and the divisor N − correction."""
    count, _ = _layout(_shape(x), axis)
    xmu = x - total(x, axis, True) / count
    return xmu, total(xmu * xmu, axis, True), count - correction


def _shape(x: Any) -> tuple[int, ...]:
    return tuple(np.shape(x)) if namespace(x) is np else tuple(x.shape)


def _divide(a: Any, divisor: float) -> Any:
    """a / divisor as PyTorch divides a variance: a divisor ≤ 0 gives inf or nan, quietly."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return a / (divisor if divisor > 0 else 0)


def var(x: Any, *, axis: Axis = None, correction: float = 0, keepdims: bool = False) -> Any:
    """The variance of x over ``axis``: the sum of squared deviations divided by
    N − ``correction`` (0 by default, the biased variance; 1 for Bessel's
    correction). Where N − correction ≤ 0 it is inf or nan, as in PyTorch."""
    _, squares, divisor = _moments(x, axis, correction)
    value = _divide(squares, divisor)
    if keepdims:
        return value
    return _reshape(value, reduced_shape(_shape(x), axis=axis, keepdims=False))  # type: ignore[arg-type]


def _var_vjp(g: Any, out: Any, x: Any, *, axis: Axis, correction: float, keepdims: bool) -> Any:
    xmu, _, divisor = _moments(x, axis, correction)
    return _kept(g, x, axis, keepdims) * _divide(2 * xmu, divisor)


def std(x: Any, *, axis: Axis = None, correction: float = 0, keepdims: bool = False) -> Any:
    """The standard deviation of x over ``axis``, the square root of ``var`` with the
    same ``correction``. Where it is 0 its gradient is 0, as in PyTorch."""
    value = var(x, axis=axis, correction=correction, keepdims=keepdims)
    return namespace(value).sqrt(value)


def _std_vjp(g: Any, out: Any, x: Any, *, axis: Axis, correction: float, keepdims: bool) -> Any:
    xmu, _, divisor = _moments(x, axis, correction)
    sigma = _kept(out, x, axis, keepdims)
    scale = _divide(_kept(g, x, axis, keepdims) / where(sigma == 0, 1.0, sigma), divisor)
    return where(sigma == 0, 0.0, scale) * xmu


def _moment_rule(text: str) -> Any:
    def rule(params: Mapping[str, Any]) -> str:
        return text.replace("N−c", f"(N−{params['correction']:g})" if params["correction"] else "N")

    return rule


define_op(
    "var", var, [_var_vjp],
    shape=reduced_shape, label=_axis_label("var"), saves=[0],
    rules=[_moment_rule("g × 2({0} − mean) / N−c")],
)
define_op(
    "std", std, [_std_vjp],
    shape=reduced_shape, label=_axis_label("std"), saves=[0, "out"],
    rules=[_moment_rule("g × ({0} − mean) / (N−c · {out})")],
)
