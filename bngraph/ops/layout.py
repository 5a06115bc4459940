"""Ops that rearrange entries without arithmetic: ``pad``, ``flip``, ``squeeze``,
``expand_dims``. Each gradient is the same rearrangement undone.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("pad").forward(np.ones((1, 2)), ((0, 0), (1, 2)))
array([[0., 1., 1., 0., 0.]])
>>> get_op("pad").shape(("N", 4), pad_width=((0, 0), (1, 2)), value=0.0)
('N', 7)
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from .arrays import as_array_like, namespace, reshape
from .broadcasting import Shape, format_shape
from .reduce import Axis, normalize_axes
from .registry import REQUIRED, define_op

__all__ = ["pad_widths"]

PadWidth = int | tuple[int, ...] | tuple[tuple[int, int], ...]


def pad_widths(pad_width: Any, ndim: int) -> tuple[tuple[int, int], ...]:
    """``(before, after)`` for every axis, from numpy's three spellings: one int for
    every side, one pair for every axis, or one pair per axis.

    >>> pad_widths(1, 2), pad_widths((1, 2), 2), pad_widths(((0, 0), (1, 2)), 2)
    (((1, 1), (1, 1)), ((1, 2), (1, 2)), ((0, 0), (1, 2)))
    """
    if isinstance(pad_width, int):
        pairs: Any = ((pad_width, pad_width),) * ndim
    elif len(pad_width) == 2 and all(isinstance(p, int) for p in pad_width):
        pairs = (tuple(pad_width),) * ndim
    elif len(pad_width) == ndim and all(isinstance(p, tuple) and len(p) == 2 for p in pad_width):
        pairs = tuple(tuple(p) for p in pad_width)
    else:
        raise ShapeError(
            f"pad_width={pad_width!r} fits no spelling for {ndim} axes: one int, one "
            f"(before, after) pair, or {ndim} pairs"
        )
    if any(w < 0 for pair in pairs for w in pair):
        raise ShapeError(f"pad_width={pad_width!r}: widths cannot be negative")
    return tuple((int(b), int(a)) for b, a in pairs)


def pad(x: Any, pad_width: PadWidth = REQUIRED, value: float = 0.0) -> Any:
    """x with ``value`` added around it: ``pad_width`` entries before and after each
    axis in numpy's order and spellings (``((0, 0), (1, 1))`` pads the last axis
    of a matrix by one on each side). Padded entries get no gradient."""
    pairs = pad_widths(pad_width, np.ndim(x))
    xp = namespace(x)
    if xp is np:
        return np.pad(x, pairs, constant_values=value)
    for axis, (before, after) in enumerate(pairs):  # the standard has no pad: join blocks
        if before or after:
            x = xp.concat([_block(x, axis, before, value), x, _block(x, axis, after, value)],
                          axis=axis)
    return x


def _block(x: Any, axis: int, width: int, value: float) -> Any:
    """An array like x but ``width`` long on ``axis``, filled with ``value``."""
    shape = tuple(width if k == axis else d for k, d in enumerate(x.shape))
    return namespace(x).broadcast_to(as_array_like(value, x), shape)


def _pad_vjp(g: Any, out: Any, x: Any, *, pad_width: PadWidth, value: float) -> Any:
    pairs = pad_widths(pad_width, np.ndim(g))
    return g[tuple(slice(b, size - a) for (b, a), size in zip(pairs, np.shape(g), strict=True))]


def _pad_shape(x: Shape, *, pad_width: PadWidth, value: float) -> Shape:
    pairs = pad_widths(pad_width, len(x))
    return tuple(
        d if b == a == 0 else d + b + a if isinstance(d, int) else None
        for d, (b, a) in zip(x, pairs, strict=True)
    )


define_op(
    "pad", pad, [_pad_vjp],
    shape=_pad_shape, label="pad", saves=[], rules=["g with the padding cut off"],
)


def flip(x: Any, axis: Axis = None) -> Any:
    """x with the order of its entries reversed along ``axis`` (every axis when None)."""
    return namespace(x).flip(x, axis=axis)


def _flip_shape(x: Shape, *, axis: Axis) -> Shape:
    normalize_axes(axis, len(x))
    return x


define_op(
    "flip", flip, [lambda g, out, x, *, axis: flip(g, axis)],
    shape=_flip_shape, label=lambda p: "flip" + ("" if p["axis"] is None else f" axis={p['axis']}"),
    saves=[], rules=["g flipped back"],
)


def _back(g: Any, out: Any, x: Any, **params: Any) -> Any:
    """The gradient reshaped to its operand's shape."""
    if namespace(g, x) is np:
        return np.reshape(g, np.shape(x))
    return reshape(g, tuple(x.shape))


def squeeze(x: Any, axis: Axis = None) -> Any:
    """x without axes of size 1: those of ``axis``, which must have size 1 (an error
    otherwise, as in numpy), or all of them when None."""
    xp = namespace(x)
    if xp is np:
        return np.squeeze(x, axis)
    shape = tuple(x.shape)
    axes = tuple(k for k, d in enumerate(shape) if d == 1) if axis is None else axis
    return xp.squeeze(x, axis=axes)


def _squeeze_shape(x: Shape, *, axis: Axis) -> Shape:
    if axis is None:
        if any(not isinstance(d, int) for d in x):
            # not a ShapeError: static inference then just leaves the shape unknown
            raise ValueError(
                f"which axes of {format_shape(x)} have size 1 is known only at run time")
        return tuple(d for d in x if d != 1)
    axes = normalize_axes(axis, len(x))
    wrong = [a for a in axes if isinstance(x[a], int) and x[a] != 1]
    if wrong:
        raise ShapeError(
            f"cannot squeeze axis {wrong[0]} of shape {format_shape(x)}: its size is not 1")
    return tuple(d for k, d in enumerate(x) if k not in axes)


def _axis_label(name: str) -> Any:
    def label(params: Mapping[str, Any]) -> str:
        axis = params["axis"]
        return name if axis is None else f"{name} axis={axis}"

    return label


define_op(
    "squeeze", squeeze, [_back],
    shape=_squeeze_shape, label=_axis_label("squeeze"), saves=[],
    rules=["g reshaped back to {0}'s shape"],
)


def expand_dims(x: Any, axis: int | tuple[int, ...] = REQUIRED) -> Any:
    """x with new axes of size 1 at the positions ``axis`` of the result, as numpy."""
    xp = namespace(x)
    if xp is np:
        return np.expand_dims(x, axis)
    return reshape(x, _expand_dims_shape(tuple(x.shape), axis=axis))  # type: ignore[arg-type]


def _expand_dims_shape(x: Shape, *, axis: int | tuple[int, ...]) -> Shape:
    positions = (axis,) if isinstance(axis, int) else axis
    ndim = len(x) + len(positions)
    axes = set(normalize_axes(positions, ndim))
    rest = iter(x)
    return tuple(1 if k in axes else next(rest) for k in range(ndim))


define_op(
    "expand_dims", expand_dims, [_back],
    shape=_expand_dims_shape, label=_axis_label("expand_dims"), saves=[],
    rules=["g reshaped back to {0}'s shape"],
)
