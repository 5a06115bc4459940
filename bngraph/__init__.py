"""bngraph: build computational graphs, run them forward and backward, and see them.

>>> import numpy as np, bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(x=np.arange(20.0).reshape(5, 4), gamma=2.0, beta=1.0, eps=0.1)
>>> sorted(run.backward(run.outputs["out"]))
['beta', 'eps', 'gamma', 'x']
"""

from . import backends, dsl, errors, functions, library, ops, plugins, reference, testing, viz
from .backends import compute
from .dsl import DSLSyntaxError, from_json, load, parse
from .errors import BngraphError
from .functions import (
    abs,
    add,
    avg_pool2d,
    broadcast_like,
    broadcast_to,
    clip,
    concat,
    conv2d,
    cos,
    div,
    equal,
    erf,
    exp,
    exp2,
    expand_dims,
    expm1,
    flip,
    gelu,
    greater,
    less,
    log,
    log1p,
    log_softmax,
    logsumexp,
    matmul,
    max,
    max_pool2d,
    maximum,
    mean,
    min,
    minimum,
    mul,
    neg,
    one_hot,
    pad,
    pow,
    prod,
    reciprocal,
    relu,
    reshape,
    reshape_like,
    sigmoid,
    sign,
    sin,
    softmax,
    softplus,
    split_axis,
    sqrt,
    square,
    squeeze,
    stack,
    std,
    sub,
    sum,
    take,
    take_along_axis,
    tanh,
    transpose,
    var,
    where,
)
from .graph import Graph, Node, NodeSpec, release_buffers
from .layers import BatchNorm
from .ops import Op, define_op, op
from .run import Run
from .viz import render, render_compare, render_steps

__version__ = "0.1.0"

__all__ = [
    "Graph", "Node", "NodeSpec", "Run", "BatchNorm", "Op", "define_op", "op", "BngraphError",
    "backends", "compute", "errors", "functions", "library", "ops", "plugins", "reference",
    "testing", "viz", "release_buffers", "render", "render_steps", "render_compare", "dsl",
    "parse", "load", "from_json", "DSLSyntaxError", "add", "sub", "mul",
    "div", "neg", "pow", "square", "sqrt", "reciprocal", "exp", "log", "tanh", "relu", "sum",
    "mean", "broadcast_to", "broadcast_like", "reshape", "transpose", "matmul", "split_axis",
    "reshape_like", "maximum", "minimum", "abs", "sign", "clip", "where", "sigmoid", "softplus",
    "erf", "gelu", "sin", "cos", "exp2", "log1p", "expm1", "greater", "less", "equal", "max",
    "min", "prod", "var", "std", "logsumexp", "softmax", "log_softmax", "take",
    "take_along_axis", "one_hot", "pad", "flip", "squeeze", "expand_dims", "conv2d",
    "max_pool2d", "avg_pool2d", "concat", "stack",
]
