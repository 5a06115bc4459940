"""Ops that move data without arithmetic: broadcasting, reshaping, transposing.

>>> from bngraph.ops import get_op
>>> get_op("reshape").shape((2, 6), shape=(3, -1))
(3, 4)
>>> get_op("transpose").shape(("N", "C", 4), axes=(2, 0, 1))
(4, 'N', 'C')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from .broadcasting import Shape, broadcast_shapes, format_shape
from .registry import define_op

__all__: list[str] = []


def broadcast_to(x: Any, shape: tuple[int, ...] = ()) -> Any:
    return np.broadcast_to(x, shape)


def _broadcast_to_shape(x: Shape, shape: Shape = ()) -> Shape:
    result = broadcast_shapes(x, shape)
    if len(result) != len(shape) or any(
        isinstance(r, int) and r != s for r, s in zip(result, shape)
    ):
        raise ShapeError(f"shape {format_shape(x)} does not broadcast to {format_shape(shape)}")
    return tuple(shape)


define_op(
    "broadcast_to", broadcast_to, [lambda g, out, x, shape=(): g], _broadcast_to_shape,
    lambda p: f"broadcast to {format_shape(p['shape'])}", saves=[],
)


def broadcast_like(x: Any, like: Any) -> Any:
    return np.broadcast_to(x, np.shape(like))


def _broadcast_like_shape(x: Shape, like: Shape) -> Shape:
    return _broadcast_to_shape(x, like)


define_op(
    "broadcast_like", broadcast_like,
    [lambda g, out, x, like: g, lambda g, out, x, like: None],
    _broadcast_like_shape, "broadcast", saves=[],
)


def reshape(x: Any, shape: tuple[int, ...] = ()) -> Any:
    return np.reshape(x, shape)


def _reshape_shape(x: Shape, shape: tuple[int, ...] = ()) -> Shape:
    if shape.count(-1) > 1:
        raise ShapeError(f"reshape to {format_shape(shape)}: at most one dimension may be -1")
    if not all(isinstance(d, int) for d in x):
        return tuple(None if d == -1 else d for d in shape)
    size = math.prod(x)  # type: ignore[arg-type]
    known = math.prod(d for d in shape if d != -1)
    if -1 in shape and known and size % known == 0:
        return tuple(size // known if d == -1 else d for d in shape)
    if -1 not in shape and known == size:
        return tuple(shape)
    raise ShapeError(f"cannot reshape {format_shape(x)} to {format_shape(shape)}")


define_op(
    "reshape", reshape, [lambda g, out, x, shape=(): np.reshape(g, np.shape(x))],
    _reshape_shape, lambda p: f"reshape {format_shape(p['shape'])}", saves=[],
)


def transpose(x: Any, axes: tuple[int, ...] | None = None) -> Any:
    return np.transpose(x, axes)


def _transpose_vjp(g: Any, out: Any, x: Any, axes: tuple[int, ...] | None = None) -> Any:
    if axes is None:
        return np.transpose(g)
    return np.transpose(g, np.argsort([a % np.ndim(x) for a in axes]))


def _transpose_shape(x: Shape, axes: tuple[int, ...] | None = None) -> Shape:
    if axes is None:
        return tuple(reversed(x))
    if sorted(a % len(x) for a in axes) != list(range(len(x))) or len(axes) != len(x):
        raise ShapeError(f"axes {axes} are not a permutation of the axes of {format_shape(x)}")
    return tuple(x[a] for a in axes)


def _transpose_label(params: Mapping[str, Any]) -> str:
    return "transpose" if params["axes"] is None else f"transpose {params['axes']}"


define_op("transpose", transpose, [_transpose_vjp], _transpose_shape, _transpose_label, saves=[])
