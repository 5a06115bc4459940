"""Ops that move data without arithmetic: broadcasting, reshaping, transposing.

>>> from bngraph.ops import get_op
>>> get_op("reshape").shape((2, 6), shape=(3, -1))
(3, 4)
>>> get_op("transpose").shape(("N", "C", 4), axes=(2, 0, 1))
(4, 'N', 'C')
>>> get_op("split_axis").shape(("N", 6, "H", "W"), axis=1, parts=2)
('N', 2, 3, 'H', 'W')
>>> get_op("reshape_like").shape(("N", 2, 3, "H", "W"), ("N", 6, "H", "W"))
('N', 6, 'H', 'W')
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from .arrays import as_array_like, inverse, namespace
from .arrays import reshape as reshaped
from .broadcasting import Shape, broadcast_shapes, format_shape
from .registry import define_op

__all__: list[str] = []


def broadcast_to(x: Any, *, shape: tuple[int, ...] = ()) -> Any:
    """x broadcast to a constant ``shape``, as numpy broadcasts."""
    return namespace(x).broadcast_to(x, shape)


def _broadcast_to_shape(x: Shape, *, shape: Shape) -> Shape:
    result = broadcast_shapes(x, shape)
    if len(result) != len(shape) or any(
        isinstance(r, int) and r != s for r, s in zip(result, shape, strict=True)
    ):
        raise ShapeError(f"shape {format_shape(x)} does not broadcast to {format_shape(shape)}")
    return tuple(shape)


def _pass_back(g: Any, out: Any, x: Any, *rest: Any, **params: Any) -> Any:
    """The gradient as it is: the engine sums it back to the operand's shape."""
    return g


define_op(
    "broadcast_to", broadcast_to, [_pass_back],
    shape=_broadcast_to_shape, label=lambda p: f"broadcast to {format_shape(p['shape'])}",
    saves=[], rules=["Σ g over the broadcast axes"],
)


def broadcast_like(x: Any, like: Any) -> Any:
    """x broadcast to the shape of ``like``; ``like`` is read for its shape only."""
    xp = namespace(x, like)
    if xp is np:
        if type(x) is float and isinstance(like, np.ndarray):
            # a weak scalar takes the dtype of the array it meets (float32 stays float32)
            x = like.dtype.type(x)
        return np.broadcast_to(x, np.shape(like))
    if type(x) is float:
        x = as_array_like(x, like)
    return xp.broadcast_to(x, tuple(like.shape))


def _broadcast_like_shape(x: Shape, like: Shape) -> Shape:
    return _broadcast_to_shape(x, shape=like)


define_op(
    "broadcast_like", broadcast_like, [_pass_back, None],
    shape=_broadcast_like_shape, label="broadcast", saves=[],
    rules=["Σ g over the broadcast axes", "shape only"],
)


def reshape(x: Any, *, shape: tuple[int, ...] = ()) -> Any:
    """x with a constant ``shape`` (one dimension may be -1), as numpy reshapes."""
    return np.reshape(x, shape) if namespace(x) is np else reshaped(x, shape)


def _reshape_shape(x: Shape, *, shape: tuple[int, ...]) -> Shape:
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


def _reshape_back(g: Any, out: Any, x: Any, *rest: Any, **params: Any) -> Any:
    """The gradient reshaped back to its operand's shape."""
    if namespace(g, x) is np:
        return np.reshape(g, np.shape(x))
    return reshaped(g, tuple(x.shape))


define_op(
    "reshape", reshape, [_reshape_back],
    shape=_reshape_shape, label=lambda p: f"reshape {format_shape(p['shape'])}", saves=[],
    rules=["g reshaped back to {0}'s shape"],
)


def transpose(x: Any, *, axes: tuple[int, ...] | None = None) -> Any:
    """x with its axes permuted (reversed when ``axes`` is None), as numpy transposes."""
    xp = namespace(x)
    if xp is np:
        return np.transpose(x, axes)
    return xp.permute_dims(x, tuple(range(x.ndim))[::-1] if axes is None else axes)


def _transpose_vjp(g: Any, out: Any, x: Any, *, axes: tuple[int, ...] | None) -> Any:
    back = None if axes is None else inverse([a % np.ndim(x) for a in axes])
    return transpose(g, axes=back)


def _transpose_shape(x: Shape, *, axes: tuple[int, ...] | None) -> Shape:
    if axes is None:
        return tuple(reversed(x))
    if sorted(a % len(x) for a in axes) != list(range(len(x))) or len(axes) != len(x):
        raise ShapeError(f"axes {axes} are not a permutation of the axes of {format_shape(x)}")
    return tuple(x[a] for a in axes)


def _transpose_label(params: Mapping[str, Any]) -> str:
    return "transpose" if params["axes"] is None else f"transpose {params['axes']}"


define_op(
    "transpose", transpose, [_transpose_vjp],
    shape=_transpose_shape, label=_transpose_label, saves=[],
    rules=["g transposed back"],
)


def split_axis(x: Any, *, axis: int = 1, parts: int = 1) -> Any:
    """Split one axis of size ``C`` into two, ``(parts, C // parts)``, whatever the
    other dimensions are (``reshape`` needs them all as literals)."""
    # plain ValueErrors: the engine turns them into a ShapeError naming the node
    shape = tuple(np.shape(x)) if namespace(x) is np else tuple(x.shape)
    if not -len(shape) <= axis < len(shape):
        raise ValueError(f"axis {axis} is out of range for an array of {len(shape)} dimension(s)")
    axis %= len(shape)
    size = shape[axis]
    if parts < 1 or size % parts:
        raise ValueError(
            f"split_axis: axis {axis} of shape {format_shape(shape)} has size {size}, "
            f"which does not split into {parts} equal parts"
        )
    return reshape(x, shape=shape[:axis] + (parts, size // parts) + shape[axis + 1:])


def _split_axis_shape(x: Shape, *, axis: int, parts: int) -> Shape:
    if not -len(x) <= axis < len(x):
        raise ShapeError(f"axis {axis} is out of range for shape {format_shape(x)}")
    axis %= len(x)
    size = x[axis]
    if parts < 1:
        raise ShapeError(f"split_axis: parts must be at least 1, not {parts}")
    if isinstance(size, int):
        if size % parts:
            raise ShapeError(
                f"split_axis: axis {axis} of shape {format_shape(x)} has size {size}, "
                f"which does not split into {parts} equal parts"
            )
        inner: Any = size // parts
    else:
        inner = None
    return x[:axis] + (parts, inner) + x[axis + 1:]


define_op(
    "split_axis", split_axis, [_reshape_back],
    shape=_split_axis_shape, label=lambda p: f"split axis {p['axis']} in {p['parts']}",
    saves=[], rules=["g reshaped back to {0}'s shape"],
)


def reshape_like(x: Any, like: Any) -> Any:
    """x reshaped to the shape of ``like`` (the same number of elements); ``like`` is
    read for its shape only."""
    return reshape(x, shape=tuple(np.shape(like)) if namespace(like) is np else tuple(like.shape))


def _reshape_like_shape(x: Shape, like: Shape) -> Shape:
    if all(isinstance(d, int) for d in (*x, *like)) and math.prod(x) != math.prod(like):  # type: ignore[arg-type]
        raise ShapeError(f"cannot reshape {format_shape(x)} like {format_shape(like)}")
    return tuple(like)


define_op(
    "reshape_like", reshape_like, [_reshape_back, None],
    shape=_reshape_like_shape, label="reshape like", saves=[],
    rules=["g reshaped back to {0}'s shape", "shape only"],
)
