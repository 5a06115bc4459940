"""Ops that pick entries by integer indices: ``take``, ``take_along_axis``, ``one_hot``.

Indices are an operand without a gradient: an integer input, or floats that hold
whole numbers (anything else is refused, never rounded). Negative indices count
from the end, as in numpy; an index out of range is an error. The gradient of a
gather is a scatter-add: an entry picked twice gets both gradients.

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> x = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
>>> get_op("take_along_axis").forward(x, np.array([[2], [0]]), axis=1)
array([[3.],
       [4.]])
>>> get_op("take").vjps[0](np.ones(3), None, np.arange(3.0), np.array([0, 0, 2]), axis=None)
array([2., 0., 1.])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import numpy as np

from ..errors import ShapeError
from .broadcasting import Shape, broadcast_shapes, format_shape
from .registry import NUMPY_ONLY, REQUIRED, define_op

__all__ = ["as_indices"]


def as_indices(indices: Any) -> np.ndarray:
    """Indices as an integer array: integers as they are, floats only when whole.

    >>> as_indices(np.array([1.0, 2.0]))
    array([1, 2])
    >>> as_indices(np.array([1.5]))
    Traceback (most recent call last):
    ...
    ValueError: indices must be whole numbers, not 1.5
    """
    array = np.asarray(indices)
    if array.dtype.kind in "iu":
        return array
    if array.dtype.kind == "f":
        whole = np.isfinite(array) & (array == np.round(array))
        if not whole.all():
            raise ValueError(f"indices must be whole numbers, not {array[~whole].flat[0].item()!r}")
        return array.astype(np.intp)
    raise ValueError(f"indices must be integers, not {array.dtype} values")


def _axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < ndim:
        raise ShapeError(f"axis {axis} is out of range for an array of {ndim} dimension(s)")
    return axis % ndim


def take(x: Any, indices: Any, axis: int | None = None) -> Any:
    """The entries of x at ``indices`` along ``axis`` (of the flattened x when None),
    as ``numpy.take``; the result has the indices' shape in place of that axis."""
    return np.take(x, as_indices(indices), axis=axis)


def _take_vjp(g: Any, out: Any, x: Any, indices: Any, *, axis: int | None) -> Any:
    grad = np.zeros(np.shape(x), dtype=np.result_type(g, x))
    index = as_indices(indices)
    if axis is None:
        np.add.at(grad.reshape(-1), index, g)
    else:
        where: Any = (slice(None),) * _axis(axis, grad.ndim) + (index,)
        np.add.at(grad, where, g)
    return grad


def _take_shape(x: Shape, indices: Shape, *, axis: int | None) -> Shape:
    if axis is None:
        return indices
    k = _axis(axis, len(x))
    return x[:k] + indices + x[k + 1:]


define_op(
    "take", take, [_take_vjp, None],
    shape=_take_shape, label=lambda p: "take" + ("" if p["axis"] is None else f" axis={p['axis']}"),
    saves=[0, 1], rules=["g added back at {1}", "indices: no gradient"],
    namespaces=NUMPY_ONLY,
)


def take_along_axis(x: Any, indices: Any, axis: int = -1) -> Any:
    """The entries of x at ``indices`` along ``axis``, one per position of the other
    axes, as ``numpy.take_along_axis`` (and ``torch.gather``); indices have x's
    number of dimensions and broadcast against it on the other axes."""
    return np.take_along_axis(x, as_indices(indices), axis=axis)


def _along(shape: tuple[int, ...], index: np.ndarray, axis: int) -> tuple[Any, ...]:
    """The fancy index that ``take_along_axis`` reads: ``index`` on ``axis``,
    ``arange`` on the others."""
    fancy: list[Any] = []
    for dim, size in enumerate(shape):
        if dim == axis:
            fancy.append(index)
        else:
            view = [1] * len(shape)
            view[dim] = size
            fancy.append(np.arange(size).reshape(view))
    return tuple(fancy)


def _take_along_vjp(g: Any, out: Any, x: Any, indices: Any, *, axis: int) -> Any:
    grad = np.zeros(np.shape(x), dtype=np.result_type(g, x))
    np.add.at(grad, _along(grad.shape, as_indices(indices), _axis(axis, grad.ndim)), g)
    return grad


def _take_along_shape(x: Shape, indices: Shape, *, axis: int) -> Shape:
    if len(x) != len(indices):
        raise ShapeError(
            f"take_along_axis: indices of shape {format_shape(indices)} need as many "
            f"dimensions as x of shape {format_shape(x)}"
        )
    k = _axis(axis, len(x))
    others = broadcast_shapes(x[:k] + (1,) + x[k + 1:], indices[:k] + (1,) + indices[k + 1:])
    return others[:k] + (indices[k],) + others[k + 1:]


define_op(
    "take_along_axis", take_along_axis, [_take_along_vjp, None],
    shape=_take_along_shape, label=lambda p: f"take along axis {p['axis']}",
    saves=[0, 1], rules=["g added back at {1}", "indices: no gradient"],
    namespaces=NUMPY_ONLY,
)

Dtype = Literal["float64", "float32", "float16"]


def one_hot(labels: Any, num_classes: int = REQUIRED, dtype: Dtype = "float64") -> Any:
    """A 1 at each label's position in a new last axis of ``num_classes`` entries, 0
    elsewhere, as ``torch.nn.functional.one_hot`` (in a floating ``dtype``). Labels
    must lie in 0 … num_classes − 1; they get no gradient."""
    index = as_indices(labels)
    bad = (index < 0) | (index >= num_classes)
    if bad.any():
        raise ValueError(
            f"one_hot: label {index[bad].flat[0]} is outside 0 … {num_classes - 1} "
            f"(num_classes={num_classes})"
        )
    return (index[..., np.newaxis] == np.arange(num_classes)).astype(dtype)


def _one_hot_shape(labels: Shape, *, num_classes: int, dtype: str) -> Shape:
    if num_classes < 1:
        raise ShapeError(f"one_hot: num_classes must be at least 1, not {num_classes}")
    return labels + (num_classes,)


def _one_hot_label(params: Mapping[str, Any]) -> str:
    return f"one-hot of {params['num_classes']}"


define_op(
    "one_hot", one_hot, [None],
    shape=_one_hot_shape, label=_one_hot_label, saves=[], rules=["labels: no gradient"],
    namespaces=NUMPY_ONLY,
)
