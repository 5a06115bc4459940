"""The op registry and the built-in ops.

>>> from bngraph.ops import op_names
>>> {"add", "mean", "matmul"} <= set(op_names())
True
"""

from . import (  # noqa: F401 - registers the built-ins
    activations,
    compare,
    conv,
    elementwise,
    index,
    join,
    layout,
    linalg,
    normalize,
    pool,
    reduce,
    shape,
    slicing,
    unary,
)
from .broadcasting import broadcast_shapes, format_shape, unbroadcast
from .registry import NUMPY_ONLY, REQUIRED, Op, define_op, get_op, is_literal_param, op, op_names

__all__ = [
    "Op",
    "define_op",
    "op",
    "get_op",
    "op_names",
    "is_literal_param",
    "REQUIRED",
    "NUMPY_ONLY",
    "broadcast_shapes",
    "unbroadcast",
    "format_shape",
]
