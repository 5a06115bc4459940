"""Group normalization: x (N, C, H, W) split into G groups of channels, statistics per group.

The graph splits the channel axis, ``(N, C, H, W) -> (N, G, C/G, H, W)``, reduces
over the last three axes, and reshapes back; ``gamma`` and ``beta`` are per
channel, ``[C]`` (or numbers), applied with the channels last as in
``batchnorm_spatial``. The number of groups is fixed when the graph is built:
``build(groups=4)``, or ``bngraph.library.build("groupnorm", groups=4)``; C must
be a multiple of it at run time.

>>> g = build(groups=3)
>>> g.spec("xg").params["parts"]
3
>>> import numpy as np
>>> build().forward(**example()).outputs["out"].shape
(2, 4, 3, 3)
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import functions as F
from ..errors import ParamError
from ..graph import Graph
from .stages import scale_and_shift_channels, standardize

__all__ = ["build", "example", "DEFAULT_GROUPS"]

DEFAULT_GROUPS = 2
AXES = (2, 3, 4)


def build(groups: int = DEFAULT_GROUPS) -> Graph:
    """Group normalization with ``groups`` groups of channels."""
    if isinstance(groups, bool) or not isinstance(groups, int) or groups < 1:
        raise ParamError(f"groupnorm: groups must be a positive int, not {groups!r}")
    g = Graph("groupnorm")
    x = g.input("x", shape=("N", "C", "H", "W"))
    gamma = g.input("gamma", shape=("C",))
    beta = g.input("beta", shape=("C",))
    eps = g.input("eps", default=1e-5)
    with g.stage("1 group"):
        xg = F.split_axis(x, axis=1, parts=groups, name="xg")
    xhat_g = standardize(g, xg, eps, axis=AXES, keepdims=True, first=2, name="xhat_g")
    with g.stage("8 normalize"):
        xhat = F.reshape_like(xhat_g, x, name="xhat")
    g.output(scale_and_shift_channels(g, xhat, gamma, beta, first=9))
    return g


def example() -> dict[str, Any]:
    """Two images of four channels (two groups of two), 3x3 pixels."""
    x = np.sin(np.arange(72.0) * 0.7).reshape(2, 4, 3, 3) * 2 + np.arange(4.0).reshape(4, 1, 1)
    return {"x": x, "gamma": np.array([1.0, 0.5, 2.0, 1.5]),
            "beta": np.array([0.0, 0.5, -0.5, 1.0]), "eps": 1e-5}
