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

__all__ = ["build", "example", "DEFAULT_GROUPS"]

DEFAULT_GROUPS = 2
AXES = (2, 3, 4)
CHANNELS_LAST = (0, 2, 3, 1)
CHANNELS_FIRST = (0, 3, 1, 2)


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
    with g.stage("2 mean"):
        mu = F.mean(xg, axis=AXES, keepdims=True, name="mu")
    with g.stage("3 center"):
        xmu = (xg - mu).named("xmu")
    with g.stage("4 square"):
        sq = (xmu ** 2).named("sq")
    with g.stage("5 variance"):
        var = F.mean(sq, axis=AXES, keepdims=True, name="var")
    with g.stage("6 std"):
        sqrtvar = F.sqrt(var + eps, name="sqrtvar")
    with g.stage("7 invert"):
        ivar = (1 / sqrtvar).named("ivar")
    with g.stage("8 normalize"):
        xhat_g = (xmu * ivar).named("xhat_g")
        xhat = F.reshape_like(xhat_g, x, name="xhat")
    with g.stage("9 scale"):
        xhat_t = F.transpose(xhat, axes=CHANNELS_LAST, name="xhat_t")
        gammax = (gamma * xhat_t).named("gammax")
    with g.stage("10 shift"):
        shifted = (gammax + beta).named("shifted")
        out = F.transpose(shifted, axes=CHANNELS_FIRST, name="out")
    g.output(out)
    return g


def example() -> dict[str, Any]:
    """Two images of four channels (two groups of two), 3x3 pixels."""
    x = np.sin(np.arange(72.0) * 0.7).reshape(2, 4, 3, 3) * 2 + np.arange(4.0).reshape(4, 1, 1)
    return {"x": x, "gamma": np.array([1.0, 0.5, 2.0, 1.5]),
            "beta": np.array([0.0, 0.5, -0.5, 1.0]), "eps": 1e-5}
