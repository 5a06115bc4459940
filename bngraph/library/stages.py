"""The stages the normalization graphs share: mean, center, square, variance, std,
invert, normalize. Each graph's Python builder calls ``standardize`` and adds its
own scale and shift (and, for group norm, its own grouping).

>>> from bngraph.graph import Graph
>>> g = Graph("g")
>>> xhat = standardize(g, g.input("x"), g.input("eps", default=1e-5), axis=0)
>>> g.stages[0], g.stages[-1], xhat.name
('1 mean', '7 normalize', 'xhat')
"""

from __future__ import annotations

from .. import functions as F
from ..graph import Graph, Node
from ..ops.reduce import Axis

__all__ = ["standardize", "scale_and_shift_channels", "CHANNELS_LAST", "CHANNELS_FIRST"]

CHANNELS_LAST = (0, 2, 3, 1)
CHANNELS_FIRST = (0, 3, 1, 2)


def standardize(
    g: Graph,
    x: Node,
    eps: Node,
    *,
    axis: Axis,
    keepdims: bool = False,
    first: int = 1,
    name: str = "xhat",
) -> Node:
    """``(x - mean) / sqrt(var + eps)`` over ``axis``, one stage per step, numbered
    from ``first``; nodes mu, xmu, sq, var, sqrtvar, ivar and ``name``."""
    labels = iter(f"{first + k} {label}" for k, label in enumerate(
        ("mean", "center", "square", "variance", "std", "invert", "normalize")))
    with g.stage(next(labels)):
        mu = F.mean(x, axis=axis, keepdims=keepdims, name="mu")
    with g.stage(next(labels)):
        xmu = (x - mu).named("xmu")
    with g.stage(next(labels)):
        sq = (xmu ** 2).named("sq")
    with g.stage(next(labels)):
        var = F.mean(sq, axis=axis, keepdims=keepdims, name="var")
    with g.stage(next(labels)):
        sqrtvar = F.sqrt(var + eps, name="sqrtvar")
    with g.stage(next(labels)):
        ivar = (1 / sqrtvar).named("ivar")
    with g.stage(next(labels)):
        return (xmu * ivar).named(name)


def scale_and_shift_channels(
    g: Graph, xhat: Node, gamma: Node, beta: Node, *, first: int, name: str = "out"
) -> Node:
    """``gamma * xhat + beta`` per channel of an (N, C, H, W) ``xhat``, in stages ``first``
    (scale) and ``first + 1`` (shift): applied with the channels last, so that gamma and
    beta broadcast as they are given (per channel, or plain numbers); the result is
    named ``name``."""
    with g.stage(f"{first} scale"):
        xhat_t = F.transpose(xhat, axes=CHANNELS_LAST, name="xhat_t")
        gammax = (gamma * xhat_t).named("gammax")
    with g.stage(f"{first + 1} shift"):
        shifted = (gammax + beta).named("shifted")
        return F.transpose(shifted, axes=CHANNELS_FIRST, name=name)
