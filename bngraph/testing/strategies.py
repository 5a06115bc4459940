"""Hypothesis strategies for shapes and inputs of normalization graphs.

Importing this module never needs hypothesis; calling a strategy does (it is
in bngraph's ``test`` extras), and says so when it is missing.

>>> from hypothesis import given, settings
>>> @settings(max_examples=5, deadline=None)
... @given(norm_shapes("layernorm"))
... def check(shape):
...     assert len(shape) == 2 and shape[1] >= 1
>>> check()
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import BngraphError
from .inputs import norm_inputs

__all__ = ["norm_shapes", "norm_input_sets", "HypothesisMissing"]

st: Any
try:
    from hypothesis import strategies as st
except ImportError:  # the package works without hypothesis; only these strategies need it
    st = None

_FOUR_D = ("batchnorm_spatial", "groupnorm")
KINDS = ("batchnorm", "batchnorm_composite", "batchnorm_spatial", "layernorm", "groupnorm")


class HypothesisMissing(BngraphError, ImportError):
    """A strategy was asked for, but hypothesis is not installed."""


def _require() -> Any:
    if st is None:
        raise HypothesisMissing(
            "bngraph.testing.strategies needs hypothesis: pip install 'bngraph[test]' or hypothesis"
        )
    return st


def norm_shapes(kind: str = "batchnorm", *, max_batch: int = 6, max_features: int = 5,
                max_side: int = 3, groups: int = 2) -> Any:
    """Shapes a library graph accepts: (N, D), or (N, C, H, W) for the spatial and
    group normalizations (C a multiple of ``groups`` for groupnorm). N starts at 2
    for the batch normalizations (one sample has no batch variance) and at 1 otherwise."""
    s = _require()
    if kind not in KINDS:
        raise BngraphError(f"no normalization kind {kind!r}; kinds: {', '.join(KINDS)}")
    min_batch = 1 if kind in ("layernorm", "groupnorm") else 2
    batch = s.integers(min_batch, max_batch)
    if kind not in _FOUR_D:
        return s.tuples(batch, s.integers(1, max_features))
    channels = s.integers(1, max_features).map(lambda c: c * groups) if kind == "groupnorm" \
        else s.integers(1, max_features)
    side = s.integers(1, max_side)
    return s.tuples(batch, channels, side, side)


def norm_input_sets(kind: str = "batchnorm", dtype: Any = np.float64, **shape_options: Any) -> Any:
    """Inputs ``{"x", "gamma", "beta", "eps"}`` for a library graph: a shape from
    ``norm_shapes``, per-feature or scalar gamma and beta, values from a drawn seed."""
    s = _require()
    return s.builds(
        lambda shape, seed, scalar: norm_inputs(
            np.random.default_rng(seed), shape, dtype, scalar_params=scalar),
        norm_shapes(kind, **shape_options), s.integers(0, 2**32 - 1), s.booleans(),
    )
