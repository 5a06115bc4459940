"""Deterministic random inputs for normalization graphs, shared by the fixtures and strategies.

>>> import numpy as np
>>> inputs = norm_inputs(np.random.default_rng(0), (4, 3), np.float32)
>>> inputs["x"].dtype, inputs["gamma"].shape, inputs["eps"]
(dtype('float32'), (3,), 1e-05)
>>> norm_inputs(np.random.default_rng(0), (2, 4, 3, 3), scalar_params=True)["gamma"]
1.0
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["norm_inputs", "param_shape"]


def param_shape(shape: tuple[int, ...]) -> tuple[int, ...]:
    """The shape of per-feature gamma and beta: axis 1 (features of (N, D), channels
    of (N, C, H, W))."""
    return (shape[1],) if len(shape) >= 2 else tuple(shape[-1:])


def norm_inputs(
    rng: np.random.Generator,
    shape: tuple[int, ...],
    dtype: Any = np.float64,
    *,
    scalar_params: bool = False,
    eps: float = 1e-5,
) -> dict[str, Any]:
    """x of ``shape`` (normal, shifted and scaled per feature), gamma, beta and eps.

    Per-feature gamma lies in [0.5, 1.5] and beta in [-1, 1]; with
    ``scalar_params=True`` they are the Python numbers 1.0 and 0.0 (weak
    scalars: they keep x's dtype).
    """
    dtype = np.dtype(dtype)
    features = param_shape(tuple(shape))
    scale = np.exp(rng.uniform(-1, 1, features)).reshape(features + (1,) * (len(shape) - 2))
    x = rng.standard_normal(shape) * scale + rng.uniform(-2, 2, features).reshape(scale.shape)
    if scalar_params:
        gamma: Any = 1.0
        beta: Any = 0.0
    else:
        gamma = rng.uniform(0.5, 1.5, features).astype(dtype)
        beta = rng.uniform(-1, 1, features).astype(dtype)
    return {"x": x.astype(dtype), "gamma": gamma, "beta": beta, "eps": eps}
