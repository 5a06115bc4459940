"""Ops of one or more operands given as a list: ``concat`` and ``stack``.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("concat").forward(np.zeros((2, 1)), np.ones((2, 2)), axis=1)
array([[0., 1., 1.],
       [0., 1., 1.]])
>>> get_op("stack").shape(("N", 3), ("N", 3), axis=-1)
('N', 3, 2)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from .arrays import namespace
from .broadcasting import Dim, Shape, format_shape
from .registry import define_op

__all__: list[str] = []


def _axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"axis {axis} is out of range for an array of {ndim} dimension(s)")
    return axis % ndim


def _same_dim(dims: list[Dim], shapes: tuple[Shape, ...]) -> Dim:
    """One dimension that every operand must share: a size, a symbol, or unknown."""
    sizes = {d for d in dims if isinstance(d, int)}
    if len(sizes) > 1:
        listed = ", ".join(format_shape(s) for s in shapes)
        raise ShapeError(f"shapes {listed} differ outside the joined axis")
    if sizes:
        return sizes.pop()
    symbols = set(dims)
    return symbols.pop() if len(symbols) == 1 else None


def concat(*xs: Any, axis: int = 0) -> Any:
    """The operands joined end to end along an existing ``axis``, as
    ``numpy.concatenate``; their other dimensions must agree."""
    xp = namespace(*xs)
    return np.concatenate(xs, axis=axis) if xp is np else xp.concat(xs, axis=axis)


def _concat_vjp(g: Any, out: Any, *xs: Any, position: int, axis: int) -> Any:
    k = _axis(axis, np.ndim(g))
    start = sum(np.shape(x)[k] for x in xs[:position])
    return g[(slice(None),) * k + (slice(start, start + np.shape(xs[position])[k]), ...)]


def _concat_shape(*shapes: Shape, axis: int) -> Shape:
    ndim = len(shapes[0])
    if any(len(s) != ndim for s in shapes):
        raise ShapeError(f"concat of {', '.join(format_shape(s) for s in shapes)}: "
                         "the operands need the same number of dimensions")
    k = _axis(axis, ndim)
    joined = [s[k] for s in shapes]
    size: Dim = sum(joined) if all(isinstance(d, int) for d in joined) else None  # type: ignore[arg-type]
    return tuple(size if d == k else _same_dim([s[d] for s in shapes], shapes) for d in range(ndim))


define_op(
    "concat", concat, [_concat_vjp], variadic=True,
    shape=_concat_shape, label=lambda p: f"concat axis={p['axis']}", saves=[],
    rules=["g's slice for operand {position} along the axis"],
)


def stack(*xs: Any, axis: int = 0) -> Any:
    """The operands, of one shape, stacked along a new ``axis``, as ``numpy.stack``."""
    return namespace(*xs).stack(xs, axis=axis)


def _stack_vjp(g: Any, out: Any, *xs: Any, position: int, axis: int) -> Any:
    return g[(slice(None),) * _axis(axis, np.ndim(g)) + (position, ...)]


def _stack_shape(*shapes: Shape, axis: int) -> Shape:
    ndim = len(shapes[0])
    if any(len(s) != ndim for s in shapes):
        raise ShapeError(f"stack of {', '.join(format_shape(s) for s in shapes)}: "
                         "the operands need the same shape")
    k = _axis(axis, ndim + 1)
    inner = tuple(_same_dim([s[d] for s in shapes], shapes) for d in range(ndim))
    return inner[:k] + (len(shapes),) + inner[k:]


define_op(
    "stack", stack, [_stack_vjp], variadic=True,
    shape=_stack_shape, label=lambda p: f"stack axis={p['axis']}", saves=[],
    rules=["g's entry {position} along the new axis"],
)
