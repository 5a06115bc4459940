"""Numpy broadcasting, both ways: shapes forward, gradients back.

Shapes here may be symbolic: a dimension is an int, a symbol such as ``"N"``,
or ``None`` when it is not known before the graph runs.

>>> import numpy as np
>>> broadcast_shapes((5, 4), (4,))
(5, 4)
>>> broadcast_shapes(("N", "D"), ("D",))
('N', 'D')
>>> unbroadcast(np.ones((5, 4)), (1, 4))
array([[5., 5., 5., 5.]])
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from .arrays import namespace

__all__ = [
    "Dim", "Shape", "broadcast_shapes", "broadcast_view", "unbroadcast", "format_shape",
    "same_shape", "operands_shape",
]

Dim = int | str | None
Shape = tuple[Dim, ...]


def _broadcast_dim(a: Dim, b: Dim, shapes: tuple[Shape, ...]) -> Dim:
    if a == b or b == 1:
        return a
    if a == 1:
        return b
    if isinstance(a, int) and isinstance(b, int):
        listed = " and ".join(format_shape(s) for s in shapes)
        raise ShapeError(f"shapes {listed} do not broadcast")
    if isinstance(a, int):
        return a
    if isinstance(b, int):
        return b
    return None


def broadcast_shapes(*shapes: Shape) -> Shape:
    """The numpy broadcast of ``shapes``; symbolic dimensions are kept where known."""
    ndim = max((len(s) for s in shapes), default=0)
    result: list[Dim] = [1] * ndim
    for shape in shapes:
        for k, dim in enumerate(shape, start=ndim - len(shape)):
            result[k] = _broadcast_dim(result[k], dim, shapes)
    return tuple(result)


def same_shape(x: Shape, *rest: Shape, **params: Any) -> Shape:
    """The shape rule of an op whose value has its first operand's shape."""
    return x


def operands_shape(*shapes: Shape, **params: Any) -> Shape:
    """The shape rule of an elementwise op: its operands' shapes broadcast together.

    >>> operands_shape(("N", 1), (4,))
    ('N', 4)
    """
    return broadcast_shapes(*shapes)


def unbroadcast(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes that broadcasting added or stretched to reach ``shape``
    (numpy's ``add.reduce`` for numpy arrays, the namespace's ``sum`` for others)."""
    if type(g) is np.ndarray:
        gshape = g.shape
    elif type(g) is float or isinstance(g, np.generic):
        gshape = ()
    else:
        return _unbroadcast_any(g, shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead > 0 and gshape[lead:] == shape:  # only leading axes were added
        return np.add.reduce(g, axis=tuple(range(lead)) if lead > 1 else 0)
    stretched = _stretched(gshape, shape, lead)
    if not stretched:
        return np.add.reduce(g, axis=tuple(range(lead))) if lead > 0 else g
    reduced = np.add.reduce(g, axis=tuple(range(lead)) + stretched, keepdims=True)
    return reduced.reshape(shape)


def _stretched(gshape: tuple[int, ...], shape: tuple[int, ...], lead: int) -> tuple[int, ...]:
    return tuple(k + lead for k, dim in enumerate(shape) if dim == 1 and gshape[k + lead] != 1)


def _unbroadcast_any(g: Any, shape: tuple[int, ...]) -> Any:
    """``unbroadcast`` for the arrays of another namespace."""
    gshape = tuple(g.shape)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    if lead < 0:
        return g  # the caller reports a gradient that does not reduce to its operand
    axes = tuple(range(lead)) + _stretched(gshape, shape, lead)
    if not axes:
        return g
    xp = namespace(g)
    return xp.reshape(xp.sum(g, axis=axes, keepdims=True), shape)


def broadcast_view(g: Any, shape: tuple[int, ...]) -> Any:
    """A read-only view of ``g`` stretched to ``shape`` (``g`` has the same number of
    dimensions, with 1 where it is stretched): ``np.broadcast_to`` at a third of its
    overhead for the contiguous arrays that reductions' gradients are.

    >>> broadcast_view(np.array([[1.0, 2.0]]), (3, 2))[2]
    array([1., 2.])
    """
    if type(g) is not np.ndarray or not g.flags.c_contiguous or g.ndim != len(shape):
        return namespace(g).broadcast_to(g, shape)
    strides = tuple(
        0 if have == 1 and want != 1 else step
        for have, want, step in zip(g.shape, shape, g.strides, strict=True)
    )
    view = np.ndarray(shape, g.dtype, g, 0, strides)
    view.flags.writeable = False
    return view


def format_shape(shape: Shape) -> str:
    """Shapes in messages and drawings: ``(5, 4)``, ``(N, D)``, ``()``.

    >>> format_shape(("N", 4)), format_shape(()), format_shape((3,))
    ('(N, 4)', '()', '(3,)')
    """
    parts = ["?" if d is None else str(d) for d in shape]
    if len(parts) == 1:
        return f"({parts[0]},)"
    return "(" + ", ".join(parts) + ")"
