"""Closed-form numpy forward and backward passes, written independently of the graphs.

They are what the tests and the ``check`` command compare the graphs against.

>>> import numpy as np
>>> x = np.arange(20.0).reshape(5, 4)
>>> out, cache = batchnorm_forward(x, 2.0, 1.0, 0.1)
>>> grads = batchnorm_backward(out, cache)
>>> sorted(grads), grads["gamma"].shape
(['beta', 'eps', 'gamma', 'x'], ())
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

__all__ = ["BatchNormCache", "batchnorm_forward", "batchnorm_backward", "reduce_to"]


class BatchNormCache(NamedTuple):
    """What the closed-form backward needs from the forward."""

    xhat: np.ndarray
    xmu: np.ndarray
    ivar: np.ndarray
    gamma: Any
    beta: Any


def batchnorm_forward(x: Any, gamma: Any, beta: Any, eps: float) -> tuple[np.ndarray, BatchNormCache]:
    """Training-mode batch normalization over axis 0 with the biased variance."""
    x = np.asarray(x)
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu * xmu).mean(axis=0)
    ivar = 1 / np.sqrt(var + eps)
    xhat = xmu * ivar
    return gamma * xhat + beta, BatchNormCache(xhat, xmu, ivar, gamma, beta)


def batchnorm_backward(dout: Any, cache: BatchNormCache) -> dict[str, np.ndarray]:
    """The closed form of DESIGN.md:
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
