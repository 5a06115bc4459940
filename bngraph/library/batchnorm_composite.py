"""Batch normalization built the way the seed notebook builds it, one small step a node.

Mean, broadcast back, center, power 2, mean, power 0.5, power -1, broadcast,
multiply, broadcast gamma, multiply, broadcast beta, add: the same layer as
``batchnorm``, decomposed differently, so that the two can be compared.

>>> g = build()
>>> g.stages
('1 center', '2 variance', '3 inverse std', '4 normalize', '5 scale', '6 shift')
>>> g.spec("istd").params["exponent"]
-1
"""

from __future__ import annotations

from typing import Any

from .. import functions as F
from ..graph import Graph
from . import batchnorm

__all__ = ["build", "example"]


def build() -> Graph:
    """The notebook's chain of small steps, grouped in six stages."""
    g = Graph("batchnorm_composite")
    x = g.input("x", shape=("N", "D"))
    gamma = g.input("gamma", shape=("D",))
    beta = g.input("beta", shape=("D",))
    eps = g.input("eps", default=1e-5)
    with g.stage("1 center"):
        mu = F.mean(x, axis=0, name="mu")
        mu_b = F.broadcast_like(mu, x, name="mu_b")
        xmu = (x - mu_b).named("xmu")
    with g.stage("2 variance"):
        xmu2 = F.pow(xmu, exponent=2, name="xmu2")
        var = F.mean(xmu2, axis=0, name="var")
    with g.stage("3 inverse std"):
        var_eps = (var + eps).named("var_eps")
        std = F.pow(var_eps, exponent=0.5, name="std")
        istd = F.pow(std, exponent=-1, name="istd")
    with g.stage("4 normalize"):
        istd_b = F.broadcast_like(istd, xmu, name="istd_b")
        x_norm = (xmu * istd_b).named("x_norm")
    with g.stage("5 scale"):
        gamma_b = F.broadcast_like(gamma, x_norm, name="gamma_b")
        gamma_x_norm = (x_norm * gamma_b).named("gamma_x_norm")
    with g.stage("6 shift"):
        beta_b = F.broadcast_like(beta, gamma_x_norm, name="beta_b")
        out = (gamma_x_norm + beta_b).named("out")
    g.output(out)
    return g


def example() -> dict[str, Any]:
    """The seed notebook's data, as for ``batchnorm``."""
    return batchnorm.example()
