"""Sliding windows over the last two axes of (N, C, H, W) arrays, for convolution
and pooling: the strided view that reads them, and the scatter-add that sends
gradients back. Both are vectorised over the pixels; only the kernel's own
positions are looped over, in ``scatter_windows``.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> windows(x, (2, 2), (2, 2), (1, 1))[0, 0, 1, 1]
array([[10., 11.],
       [14., 15.]])
>>> output_size(32, kernel=3, stride=2, padding=1, dilation=1)
16
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from ..errors import ShapeError
from .broadcasting import Dim

__all__ = ["Pair", "pair", "output_size", "windows", "scatter_windows", "pad_spatial", "crop"]

Pair = int | tuple[int, ...]


def pair(value: Pair, name: str, minimum: int = 1) -> tuple[int, int]:
    """An int or a pair of ints as ``(height, width)``, each at least ``minimum``.

    >>> pair(3, "kernel"), pair((1, 2), "stride")
    ((3, 3), (1, 2))
    """
    values = (value, value) if isinstance(value, int) else tuple(value)
    if len(values) != 2 or not all(isinstance(v, int) and v >= minimum for v in values):
        raise ShapeError(
            f"{name}={value!r} must be an int or a pair of ints, each at least {minimum}")
    return values[0], values[1]


def output_size(size: Dim, *, kernel: int, stride: int, padding: int, dilation: int) -> Dim:
    """The number of window positions along one axis (``None`` for a symbolic size)."""
    if not isinstance(size, int):
        return None
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ShapeError(
            f"the window spans {span} entries, more than the {size + 2 * padding} of an axis of "
            f"size {size} padded by {padding} on each side"
        )
    return (size + 2 * padding - span) // stride + 1


def pad_spatial(x: Any, padding: tuple[int, int], value: float = 0.0) -> Any:
    """x (N, C, H, W) with ``padding`` rows and columns of ``value`` on each side."""
    if padding == (0, 0):
        return np.asarray(x)
    (ph, pw) = padding
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)), constant_values=value)


def windows(padded: Any, kernel: tuple[int, int], stride: tuple[int, int],
            dilation: tuple[int, int]) -> Any:
    """The read-only view (N, C, H_out, W_out, kH, kW) of every window of ``padded``."""
    (kh, kw), (sh, sw), (dh, dw) = kernel, stride, dilation
    span = (dh * (kh - 1) + 1, dw * (kw - 1) + 1)
    view = sliding_window_view(padded, span, axis=(2, 3))
    return view[:, :, ::sh, ::sw, ::dh, ::dw]


def scatter_windows(grads: Any, padded_shape: tuple[int, ...], stride: tuple[int, int],
                    dilation: tuple[int, int]) -> np.ndarray:
    """The transpose of ``windows``: each window's gradient (N, C, H_out, W_out, kH, kW)
    added back where the window read, in an array of ``padded_shape``."""
    (sh, sw), (dh, dw) = stride, dilation
    _, _, ho, wo, kh, kw = grads.shape
    total = np.zeros(padded_shape, dtype=grads.dtype)
    for i in range(kh):
        rows = slice(i * dh, i * dh + sh * (ho - 1) + 1, sh)
        for j in range(kw):
            total[:, :, rows, j * dw: j * dw + sw * (wo - 1) + 1: sw] += grads[:, :, :, :, i, j]
    return total


def crop(padded: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """``padded`` without its ``padding`` rows and columns on each side."""
    ph, pw = padding
    h, w = padded.shape[2:]
    return padded[:, :, ph: h - ph, pw: w - pw]
