"""Matrix products with numpy's ``matmul`` semantics (1-D operands and batches).

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> get_op("matmul").shape(("N", 3), (3, "K"))
('N', 'K')
>>> get_op("matmul").shape((3,), (3,))
()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import ShapeError
from .arrays import namespace
from .broadcasting import Shape, broadcast_shapes, format_shape
from .registry import define_op

__all__: list[str] = []


def matmul(x: Any, y: Any) -> Any:
    """The matrix product x @ y, with numpy's rules for 1-D operands and batches."""
    return namespace(x, y).matmul(x, y)


def _as_matrices(g: Any, x: Any, y: Any) -> tuple[Any, Any, Any]:
    """Lift 1-D operands (and the gradient) to matrices, as matmul does internally."""
    if namespace(g) is np:
        g = np.asarray(g)
    if y.ndim == 1:
        y = y[:, None]
        g = g[..., None]
    if x.ndim == 1:
        x = x[None, :]
        g = g[..., None, :]
    return g, x, y


def _matmul_vjp_x(g: Any, out: Any, x: Any, y: Any) -> Any:
    g2, x2, y2 = _as_matrices(g, x, y)
    xp = namespace(g2, y2)
    grad = xp.matmul(g2, xp.matrix_transpose(y2))
    return grad[..., 0, :] if x.ndim == 1 else grad


def _matmul_vjp_y(g: Any, out: Any, x: Any, y: Any) -> Any:
    g2, x2, y2 = _as_matrices(g, x, y)
    xp = namespace(g2, x2)
    grad = xp.matmul(xp.matrix_transpose(x2), g2)
    return grad[..., :, 0] if y.ndim == 1 else grad


def _matmul_shape(x: Shape, y: Shape) -> Shape:
    if not x or not y:
        raise ShapeError("matmul needs operands of at least one dimension, got "
                         f"{format_shape(x)} and {format_shape(y)}")
    x2 = (1, *x) if len(x) == 1 else x
    y2 = (*y, 1) if len(y) == 1 else y
    inner_x, inner_y = x2[-1], y2[-2]
    if isinstance(inner_x, int) and isinstance(inner_y, int) and inner_x != inner_y:
        raise ShapeError(f"matmul of {format_shape(x)} and {format_shape(y)}: "
                         f"inner dimensions {inner_x} and {inner_y} differ")
    batch = broadcast_shapes(x2[:-2], y2[:-2])
    core = ((x2[-2],) if len(x) > 1 else ()) + ((y2[-1],) if len(y) > 1 else ())
    return batch + core


define_op(
    "matmul", matmul, [_matmul_vjp_x, _matmul_vjp_y],
    shape=_matmul_shape, label="@", saves=[0, 1], rules=["g @ {1}ᵀ", "{0}ᵀ @ g"],
)
