"""The seed notebook's composite BatchNorm, rebuilt as a graph, its two bugs included.

The notebook built batch normalization from small forward/backward classes and
compared it with the staged tutorial version on x = arange(20) as 5x4, gamma = 2,
beta = 1, eps = 0.1, seeding backward with dout = out; its check compared one
backward with itself. Rebuilt here as the composite decomposition, with the
notebook's two pieces whose rules are wrong available as custom ops:

- ``notebook_mul``: its multiply hands each operand its own value (``dz * x1, dz * x2``);
- ``notebook_center``: its centering adds the mean's gradient instead of subtracting it.

Importing this module registers those two ops; nothing else in bngraph uses them.

>>> import numpy as np
>>> g = notebook_graph("buggy", bad_multiply=True, bad_center=True)
>>> sorted({spec.op for spec in g.nodes} & {"notebook_mul", "notebook_center"})
['notebook_center', 'notebook_mul']
"""

from __future__ import annotations

from typing import Any

import numpy as np

from . import functions as F
from .graph import Graph
from .ops import define_op

__all__ = ["notebook_graph", "seed_data", "notebook_mul", "notebook_center"]

notebook_mul = define_op(
    "notebook_mul", lambda a, b: a * b,
    vjps=[lambda g, out, a, b: g * a, lambda g, out, a, b: g * b],  # the bug: its own value
    label="×", saves=[0, 1], replace=True,
)
notebook_center = define_op(
    "notebook_center", lambda x: x - np.mean(x, axis=0),
    vjps=[lambda g, out, x: g + np.mean(g, axis=0)],  # the bug: should be g - mean(g)
    label="center", saves=[], replace=True,
)


def notebook_graph(name: str, *, bad_multiply: bool = False, bad_center: bool = False) -> Graph:
    """The composite decomposition, with the notebook's buggy pieces where asked."""
    mul = notebook_mul if bad_multiply else F.mul
    g = Graph(name)
    x = g.input("x", shape=("N", "D"))
    gamma, beta = g.input("gamma", shape=("D",)), g.input("beta", shape=("D",))
    eps = g.input("eps", default=1e-5)
    with g.stage("1 center"):
        if bad_center:
            xmu = notebook_center(x, name="xmu")
        else:
            mu = F.mean(x, axis=0, name="mu")
            xmu = (x - F.broadcast_like(mu, x, name="mu_b")).named("xmu")
    with g.stage("2 variance"):
        var = F.mean(F.pow(xmu, exponent=2, name="xmu2"), axis=0, name="var")
    with g.stage("3 inverse std"):
        std = F.pow((var + eps).named("var_eps"), exponent=0.5, name="std")
        istd = F.pow(std, exponent=-1, name="istd")
    with g.stage("4 normalize"):
        x_norm = mul(xmu, F.broadcast_like(istd, xmu, name="istd_b"), name="x_norm")
    with g.stage("5 scale"):
        gamma_b = F.broadcast_like(gamma, x_norm, name="gamma_b")
        gamma_x_norm = mul(x_norm, gamma_b, name="gamma_x_norm")
    with g.stage("6 shift"):
        beta_b = F.broadcast_like(beta, gamma_x_norm, name="beta_b")
        out = (gamma_x_norm + beta_b).named("out")
    g.output(out)
    return g


def seed_data(gamma: Any = 2.0) -> dict[str, Any]:
    """The notebook's data: x = arange(20) as 5x4, gamma = 2, beta = 1, eps = 0.1."""
    return {"x": np.arange(20.0).reshape(5, 4), "gamma": gamma, "beta": 1.0, "eps": 0.1}
