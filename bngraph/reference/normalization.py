"""Closed-form numpy forward and backward passes, written independently of the graphs.

They are what the tests and the ``check`` command compare the graphs against;
``docs/batchnorm.md`` writes the formulas out, stage by stage, with the conventions.

>>> import numpy as np
>>> x = np.arange(20.0).reshape(5, 4)
>>> out, cache = batchnorm_forward(x, 2.0, 1.0, 0.1)
>>> grads = batchnorm_backward(out, cache)
>>> sorted(grads), grads["gamma"].shape
(['beta', 'eps', 'gamma', 'x'], ())

The other normalizations share one closed form over the reduced axes; with
``xhat = (x - mean) / sqrt(var + eps)`` and ``dxhat = gamma * dout``, over the M
values of each group of statistics:
``dx = (ivar / M) * (M*dxhat - sum(dxhat) - xhat * sum(dxhat * xhat))``.
``normalization_closed_form(name, inputs)`` evaluates the reference of a library
normalization by name:

>>> out, grads = normalization_closed_form("layernorm", {"x": x, "gamma": 1.0, "beta": 0.0})
>>> bool(np.allclose(out.mean(axis=1), 0)), grads["x"].shape
(True, (5, 4))
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "BatchNormCache", "batchnorm_forward", "batchnorm_backward", "reduce_to",
    "NormCache", "layernorm_forward", "layernorm_backward",
    "spatial_batchnorm_forward", "spatial_batchnorm_backward",
    "groupnorm_forward", "groupnorm_backward", "NORMALIZATIONS", "normalization_closed_form",
]


class BatchNormCache(NamedTuple):
    """What the closed-form backward needs from the forward."""

    xhat: np.ndarray
    xmu: np.ndarray
    ivar: np.ndarray
    gamma: Any
    beta: Any


def batchnorm_forward(
    x: Any, gamma: Any, beta: Any, eps: float
) -> tuple[np.ndarray, BatchNormCache]:
    """Training-mode batch normalization over axis 0 with the biased variance."""
    x = np.asarray(x)
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu * xmu).mean(axis=0)
    ivar = 1 / np.sqrt(var + eps)
    xhat = xmu * ivar
    return gamma * xhat + beta, BatchNormCache(xhat, xmu, ivar, gamma, beta)


def batchnorm_backward(dout: Any, cache: BatchNormCache) -> dict[str, np.ndarray]:
    """The closed form of docs/batchnorm.md:
    ``dx = (gamma * ivar / N) * (N*dout - sum(dout, 0) - xhat * sum(dout * xhat, 0))``,
    with dgamma, dbeta and deps, each reduced to the shape of the value given."""
    xhat, xmu, ivar, gamma, beta = cache
    n = dout.shape[0]
    dgamma_full = np.sum(dout * xhat, axis=0)
    dbeta_full = np.sum(dout, axis=0)
    dx = (gamma * ivar / n) * (n * dout - dbeta_full - xhat * dgamma_full)
    # d out / d eps = gamma * xmu * d(ivar)/d eps, with d(ivar)/d eps = -ivar**3 / 2
    deps = np.sum(dout * gamma * xmu * (-0.5 * ivar**3))
    return {
        "x": dx,
        "gamma": reduce_to(dgamma_full, np.shape(gamma)),
        "beta": reduce_to(dbeta_full, np.shape(beta)),
        "eps": np.asarray(deps),
    }


def reduce_to(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum a per-feature gradient down to the shape of a broadcast parameter.

    >>> reduce_to(np.array([1.0, 2.0]), ())
    array(3.)
    """
    grad = np.asarray(grad)
    while grad.ndim > len(shape):
        grad = np.asarray(grad.sum(axis=0))
    axes = tuple(k for k, d in enumerate(shape) if d == 1 and grad.shape[k] != 1)
    return grad.sum(axis=axes, keepdims=True) if axes else grad


class NormCache(NamedTuple):
    """What the shared closed-form backward needs: the values in the view where the
    statistics are taken (``axes`` of ``view``), and how gamma and beta were given."""

    xhat: np.ndarray
    xmu: np.ndarray
    ivar: np.ndarray
    axes: tuple[int, ...]
    gamma: Any
    beta: Any
    channel_axis: int


def _statistics(view: np.ndarray, axes: tuple[int, ...], eps: Any) -> tuple[np.ndarray, ...]:
    mu = view.mean(axis=axes, keepdims=True)
    xmu = view - mu
    var = (xmu * xmu).mean(axis=axes, keepdims=True)
    ivar = 1 / np.sqrt(var + eps)
    return xmu * ivar, xmu, ivar


def _per_channel(param: Any, ndim: int, channel_axis: int) -> Any:
    """A per-channel parameter, shaped to broadcast along ``channel_axis`` of an ndim array."""
    param = np.asarray(param) if not isinstance(param, float) else param
    if np.ndim(param) == 0:
        return param
    shape = [1] * ndim
    shape[channel_axis] = -1
    return np.reshape(param, shape)


def _channel_grad(full: np.ndarray, given: Any, channel_axis: int) -> np.ndarray:
    """Sum a full-size gradient down to the shape of a per-channel parameter as given."""
    shape = np.shape(given)
    if shape == ():
        return np.asarray(full.sum())
    others = tuple(k for k in range(full.ndim) if k != channel_axis)
    per_channel = full.sum(axis=others)
    if shape == (1,) and per_channel.shape != (1,):
        return np.asarray(per_channel.sum(keepdims=True))
    return np.asarray(per_channel)


def _normalized_backward(dxhat: np.ndarray, cache: NormCache) -> tuple[np.ndarray, np.ndarray]:
    """dx (in the view's shape) and d eps from the gradient of xhat."""
    xhat, xmu, ivar, axes = cache.xhat, cache.xmu, cache.ivar, cache.axes
    m = math.prod(xhat.shape[a] for a in axes)
    dx = (ivar / m) * (
        m * dxhat
        - dxhat.sum(axis=axes, keepdims=True)
        - xhat * (dxhat * xhat).sum(axis=axes, keepdims=True)
    )
    deps = np.sum(dxhat * xmu * (-0.5 * ivar**3))
    return dx, np.asarray(deps)


def _forward(x: Any, gamma: Any, beta: Any, eps: Any, view_shape: tuple[int, ...] | None,
             axes: tuple[int, ...], channel_axis: int) -> tuple[np.ndarray, NormCache]:
    x = np.asarray(x)
    view = x if view_shape is None else x.reshape(view_shape)
    xhat, xmu, ivar = _statistics(view, axes, eps)
    xhat_x = xhat.reshape(x.shape)
    scale = _per_channel(gamma, x.ndim, channel_axis)
    out = scale * xhat_x + _per_channel(beta, x.ndim, channel_axis)
    return out, NormCache(xhat, xmu, ivar, axes, gamma, beta, channel_axis)


def _backward(dout: Any, cache: NormCache) -> dict[str, np.ndarray]:
    dout = np.asarray(dout)
    gamma_b = _per_channel(cache.gamma, dout.ndim, cache.channel_axis)
    dxhat = (dout * gamma_b).reshape(cache.xhat.shape)
    dx, deps = _normalized_backward(dxhat, cache)
    xhat_x = cache.xhat.reshape(dout.shape)
    return {
        "x": dx.reshape(dout.shape),
        "gamma": _channel_grad(dout * xhat_x, cache.gamma, cache.channel_axis),
        "beta": _channel_grad(dout, cache.beta, cache.channel_axis),
        "eps": deps,
    }


def layernorm_forward(x: Any, gamma: Any, beta: Any, eps: Any) -> tuple[np.ndarray, NormCache]:
    """Layer normalization of x (N, D) over its last axis; gamma and beta per feature."""
    return _forward(x, gamma, beta, eps, None, (np.ndim(x) - 1,), np.ndim(x) - 1)


def layernorm_backward(dout: Any, cache: NormCache) -> dict[str, np.ndarray]:
    """Gradients of x, gamma, beta and eps, each in the shape of the value given."""
    return _backward(dout, cache)


def spatial_batchnorm_forward(
    x: Any, gamma: Any, beta: Any, eps: Any
) -> tuple[np.ndarray, NormCache]:
    """Batch normalization of x (N, C, H, W) over axes (0, 2, 3); gamma and beta per channel."""
    return _forward(x, gamma, beta, eps, None, (0, 2, 3), 1)


def spatial_batchnorm_backward(dout: Any, cache: NormCache) -> dict[str, np.ndarray]:
    """Gradients of x, gamma, beta and eps, each in the shape of the value given."""
    return _backward(dout, cache)


def groupnorm_forward(
    x: Any, gamma: Any, beta: Any, eps: Any, groups: int
) -> tuple[np.ndarray, NormCache]:
    """Group normalization of x (N, C, H, W): statistics over each group of C/groups
    channels and all pixels; gamma and beta per channel."""
    n, c, h, w = np.shape(x)
    if c % groups:
        raise ValueError(f"{c} channels do not split into {groups} groups")
    return _forward(x, gamma, beta, eps, (n, groups, c // groups, h, w), (2, 3, 4), 1)


def groupnorm_backward(dout: Any, cache: NormCache) -> dict[str, np.ndarray]:
    """Gradients of x, gamma, beta and eps, each in the shape of the value given."""
    return _backward(dout, cache)


NORMALIZATIONS = ("batchnorm", "batchnorm_composite", "batchnorm_spatial", "layernorm", "groupnorm")
"""The library normalizations that have a closed form here."""


def normalization_closed_form(
    name: str, inputs: dict[str, Any], dout: Any = None, **params: Any
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """The reference output and input gradients of library graph ``name``.

    ``inputs`` holds x, gamma, beta and optionally eps (default 1e-5); ``dout``
    seeds the backward pass (ones when omitted); ``params`` are the graph's build
    parameters (``groups`` for groupnorm, default 2).
    """
    x, gamma, beta = inputs["x"], inputs["gamma"], inputs["beta"]
    eps = inputs.get("eps", 1e-5)
    cache: Any
    backward: Any
    if name in ("batchnorm", "batchnorm_composite"):
        out, cache = batchnorm_forward(x, gamma, beta, eps)
        backward = batchnorm_backward
    elif name == "batchnorm_spatial":
        out, cache = spatial_batchnorm_forward(x, gamma, beta, eps)
        backward = spatial_batchnorm_backward
    elif name == "layernorm":
        out, cache = layernorm_forward(x, gamma, beta, eps)
        backward = layernorm_backward
    elif name == "groupnorm":
        out, cache = groupnorm_forward(x, gamma, beta, eps, params.get("groups", 2))
        backward = groupnorm_backward
    else:
        raise ValueError(f"{name!r} is not one of {', '.join(NORMALIZATIONS)}")
    seed = np.ones_like(out) if dout is None else np.asarray(dout)
    return out, backward(seed, cache)
