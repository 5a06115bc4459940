"""bngraph: build computational graphs, run them forward and backward, and see them.

>>> import numpy as np, bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(x=np.arange(20.0).reshape(5, 4), gamma=2.0, beta=1.0, eps=0.1)
>>> sorted(run.backward(run.outputs["out"]))
['beta', 'eps', 'gamma', 'x']
"""

from . import dsl, errors, library, ops, reference, testing, viz
from .dsl import DSLSyntaxError, from_json, load, parse
from .errors import BngraphError
from .functions import (
    add,
    broadcast_like,
    broadcast_to,
    div,
    exp,
    log,
    matmul,
    mean,
    mul,
    neg,
    pow,
    reciprocal,
    relu,
    reshape,
    reshape_like,
    split_axis,
    sqrt,
    square,
    sub,
    sum,
    tanh,
    transpose,
)
from .graph import Graph, Node, NodeSpec
from .layers import BatchNorm
from .ops import Op, define_op, op
from .run import Run
from .viz import render, render_steps

__version__ = "0.1.0"

__all__ = [
    "Graph", "Node", "NodeSpec", "Run", "BatchNorm", "Op", "define_op", "op", "BngraphError",
    "errors", "library", "ops", "reference", "testing", "viz", "render", "render_steps",
    "dsl", "parse", "load", "from_json", "DSLSyntaxError",
    "add", "sub", "mul", "div", "neg", "pow", "square", "sqrt", "reciprocal", "exp", "log",
    "tanh", "relu", "sum", "mean", "broadcast_to", "broadcast_like", "reshape", "transpose",
    "matmul", "split_axis", "reshape_like",
]
