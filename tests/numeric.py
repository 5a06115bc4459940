"""Central differences: the independent reference the engine's gradients (and the
testing toolkit's own checks) are checked against, written apart from bngraph."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numeric_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-6
) -> np.ndarray:
    """d f / d x by central differences, one element at a time (float64).

    The truncation error is O(h²) and the rounding error O(ε/h): with h = 1e-6 on
    values of order one, both are below 1e-8, which sets the tolerances of the tests.
    """
    x = np.array(x, dtype=np.float64)
    grad = np.zeros_like(x)
    for index in np.ndindex(x.shape):
        old = x[index]
        x[index] = old + h
        up = f(x)
        x[index] = old - h
        down = f(x)
        x[index] = old
        grad[index] = (up - down) / (2 * h)
    return grad
