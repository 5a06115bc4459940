"""The closed form of conv2d → spatial batch normalization → relu.

The convolution here is written apart from the ``conv2d`` op: one matrix product
per kernel position (``tensordot`` of a shifted slice of x with one tap of the
weights), and its backward sends each tap's share back through the same slice.

>>> import numpy as np
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> conv2d_forward(x, np.ones((1, 1, 3, 3)), padding=1)[0, 0, 0]
array([10., 18., 24., 18.])
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .normalization import NormCache, spatial_batchnorm_backward, spatial_batchnorm_forward

__all__ = [
    "conv2d_forward", "conv2d_backward", "ConvBNReLUCache", "conv_bn_relu_forward",
    "conv_bn_relu_backward",
]


def _taps(x: np.ndarray, w: np.ndarray, padding: int) -> tuple[np.ndarray, int, int]:
    padded = np.pad(x, ((0, 0), (0, 0), (padding, padding), (padding, padding)))
    kh, kw = w.shape[2:]
    return padded, padded.shape[2] - kh + 1, padded.shape[3] - kw + 1


def conv2d_forward(x: Any, w: Any, padding: int = 0) -> np.ndarray:
    """The cross-correlation of x (N, C, H, W) with w (O, C, kH, kW), stride 1, zero
    ``padding`` on each side: (N, O, H_out, W_out)."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    padded, ho, wo = _taps(x, w, padding)
    out = np.zeros((x.shape[0], w.shape[0], ho, wo))
    for i, j in np.ndindex(*w.shape[2:]):
        tap = np.tensordot(padded[:, :, i:i + ho, j:j + wo], w[:, :, i, j], axes=([1], [1]))
        out += np.moveaxis(tap, 3, 1)  # (N, H_out, W_out, O) -> (N, O, H_out, W_out)
    return out


def conv2d_backward(dout: Any, x: Any, w: Any, padding: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Gradients of x and w for the output gradient ``dout``."""
    x, w = np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64)
    padded, ho, wo = _taps(x, w, padding)
    dpadded, dw = np.zeros_like(padded), np.zeros_like(w)
    for i, j in np.ndindex(*w.shape[2:]):
        window = padded[:, :, i:i + ho, j:j + wo]
        dw[:, :, i, j] = np.tensordot(dout, window, axes=([0, 2, 3], [0, 2, 3]))
        dpadded[:, :, i:i + ho, j:j + wo] += np.moveaxis(
            np.tensordot(dout, w[:, :, i, j], axes=([1], [0])), 3, 1)
    h, wd = x.shape[2:]
    return dpadded[:, :, padding:padding + h, padding:padding + wd], dw


class ConvBNReLUCache(NamedTuple):
    """What the backward pass reads."""

    x: np.ndarray
    w: np.ndarray
    padding: int
    norm: NormCache
    normalized: np.ndarray


def conv_bn_relu_forward(x: Any, w: Any, gamma: Any, beta: Any, eps: Any,
                         padding: int = 1) -> tuple[np.ndarray, ConvBNReLUCache]:
    """``relu(batchnorm_spatial(conv2d(x, w, padding), gamma, beta, eps))``."""
    y = conv2d_forward(x, w, padding)
    normalized, norm = spatial_batchnorm_forward(y, gamma, beta, eps)
    cache = ConvBNReLUCache(np.asarray(x, dtype=np.float64), np.asarray(w, dtype=np.float64),
                            padding, norm, normalized)
    return np.maximum(normalized, 0.0), cache


def conv_bn_relu_backward(dout: Any, cache: ConvBNReLUCache) -> dict[str, np.ndarray]:
    """Gradients of x, w, gamma, beta and eps (relu's gradient at 0 is 0)."""
    grads = spatial_batchnorm_backward(np.asarray(dout) * (cache.normalized > 0), cache.norm)
    dx, dw = conv2d_backward(grads.pop("x"), cache.x, cache.w, cache.padding)
    return {"x": dx, "w": dw, **grads}
