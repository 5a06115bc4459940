"""Two-dimensional pooling of x (N, C, H, W): ``max_pool2d`` and ``avg_pool2d``, as
``torch.nn.functional`` computes them (``ceil_mode=False``).

>>> import numpy as np
>>> from bngraph.ops import get_op
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> get_op("max_pool2d").forward(x, 2)[0, 0]
array([[ 5.,  7.],
       [13., 15.]])
>>> get_op("avg_pool2d").forward(x, 2)[0, 0]
array([[ 2.5,  4.5],
       [10.5, 12.5]])
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..errors import ShapeError
from .broadcasting import Shape, format_shape
from .registry import NUMPY_ONLY, REQUIRED, define_op
from .windows import Pair, crop, output_size, pad_spatial, pair, scatter_windows, windows

__all__: list[str] = []

_NO_DILATION = (1, 1)


class _Pooling:
    """The sizes of one pooling, checked once; ``stride`` defaults to the kernel."""

    def __init__(self, x: Shape, kernel: Pair, stride: Pair | None, padding: Pair) -> None:
        if len(x) != 4:
            raise ShapeError(f"pooling takes x of shape (N, C, H, W), got {format_shape(x)}")
        self.kernel = pair(kernel, "kernel")
        self.stride = self.kernel if stride is None else pair(stride, "stride")
        self.padding = pair(padding, "padding", minimum=0)
        if any(2 * p > k for p, k in zip(self.padding, self.kernel, strict=True)):
            raise ShapeError(
                f"padding={padding!r} must be at most half of kernel={kernel!r}, as in PyTorch"
            )
        self.out = tuple(x[:2]) + tuple(
            output_size(size, kernel=k, stride=s, padding=p, dilation=1)
            for size, k, s, p in zip(x[2:], self.kernel, self.stride, self.padding, strict=True)
        )

    def padded_shape(self, x: Any) -> tuple[int, ...]:
        n, c, h, w = np.shape(x)
        return (n, c, h + 2 * self.padding[0], w + 2 * self.padding[1])


def _pool_shape(x: Shape, *, kernel: Pair, stride: Pair | None, padding: Pair,
                **params: Any) -> Shape:
    return _Pooling(x, kernel, stride, padding).out


def _pool_label(name: str) -> Any:
    def label(params: Mapping[str, Any]) -> str:
        text = f"{name} {params['kernel']}"
        if params["stride"] is not None:
            text += f" stride={params['stride']}"
        return text + (f" padding={params['padding']}" if params["padding"] else "")

    return label


def _argmax(x: Any, pooling: _Pooling) -> tuple[Any, Any]:
    """Each window's flat position of its maximum (the first one, in row-major
    order), and its windows flattened."""
    padded = pad_spatial(x, pooling.padding, -np.inf)
    view = windows(padded, pooling.kernel, pooling.stride, _NO_DILATION)
    flat = view.reshape(*view.shape[:4], -1)
    return np.argmax(flat, axis=-1), flat


def max_pool2d(x: Any, kernel: Pair = REQUIRED, stride: Pair | None = None,
               padding: Pair = 0) -> Any:
    """The largest entry of each ``kernel`` window of x (N, C, H, W), moved by ``stride``
    (the kernel by default), x padded by ``padding`` on each side with −∞.

    As in PyTorch, the gradient goes to one entry per window, the first maximum in
    row-major order (at a tie, the others get none), and overlapping windows add up.
    """
    pooling = _Pooling(np.shape(x), kernel, stride, padding)
    index, flat = _argmax(x, pooling)
    return np.take_along_axis(flat, index[..., np.newaxis], axis=-1)[..., 0]


def _max_pool_vjp(g: Any, out: Any, x: Any, *, kernel: Pair, stride: Pair | None,
                  padding: Pair) -> Any:
    pooling = _Pooling(np.shape(x), kernel, stride, padding)
    index, _ = _argmax(x, pooling)
    n, c, hp, wp = pooling.padded_shape(x)
    _, _, ho, wo = index.shape
    kw = pooling.kernel[1]
    rows = np.arange(ho).reshape(ho, 1) * pooling.stride[0] + index // kw
    cols = np.arange(wo) * pooling.stride[1] + index % kw
    planes = np.arange(n * c).reshape(n, c, 1, 1)
    flat = (planes * hp + rows) * wp + cols
    total = np.bincount(flat.ravel(), weights=np.ravel(g), minlength=n * c * hp * wp)
    return crop(total.reshape(n, c, hp, wp).astype(np.result_type(g, x)), pooling.padding)


define_op(
    "max_pool2d", max_pool2d, [_max_pool_vjp],
    shape=_pool_shape, label=_pool_label("max pool"), saves=[0],
    rules=["g to the first maximum of each window of {0}"],
    namespaces=NUMPY_ONLY,
)


def _divisor(x: Any, pooling: _Pooling, count_include_pad: bool, dtype: Any) -> Any:
    """How many entries each window averages: the kernel's size, or its entries that
    are not padding (in ``dtype``, so that float32 stays float32)."""
    kh, kw = pooling.kernel
    if count_include_pad or pooling.padding == (0, 0):
        return kh * kw
    ones = pad_spatial(np.ones((1, 1, *np.shape(x)[2:]), dtype=dtype), pooling.padding)
    return windows(ones, pooling.kernel, pooling.stride, _NO_DILATION).sum(axis=(-2, -1))


def avg_pool2d(x: Any, kernel: Pair = REQUIRED, stride: Pair | None = None,
               padding: Pair = 0, count_include_pad: bool = True) -> Any:
    """The mean of each ``kernel`` window of x (N, C, H, W), moved by ``stride`` (the
    kernel by default), x padded by ``padding`` zeros on each side; as in PyTorch,
    the zeros count in the mean unless ``count_include_pad=False``."""
    pooling = _Pooling(np.shape(x), kernel, stride, padding)
    view = windows(pad_spatial(x, pooling.padding), pooling.kernel, pooling.stride, _NO_DILATION)
    total = view.sum(axis=(-2, -1))
    return total / _divisor(x, pooling, count_include_pad, total.dtype)


def _avg_pool_vjp(g: Any, out: Any, x: Any, *, kernel: Pair, stride: Pair | None,
                  padding: Pair, count_include_pad: bool) -> Any:
    pooling = _Pooling(np.shape(x), kernel, stride, padding)
    g = np.asarray(g)
    share = g / _divisor(x, pooling, count_include_pad, g.dtype)
    per_window = np.broadcast_to(share[..., np.newaxis, np.newaxis],
                                 share.shape + pooling.kernel)
    total = scatter_windows(per_window, pooling.padded_shape(x), pooling.stride, _NO_DILATION)
    return crop(total, pooling.padding)


define_op(
    "avg_pool2d", avg_pool2d, [_avg_pool_vjp],
    shape=_pool_shape, label=_pool_label("avg pool"), saves=[],
    rules=["g shared equally over each window of {0}"],
    namespaces=NUMPY_ONLY,
)
