"""The op functions of the Python builder: ``bg.mean(x, axis=0, name="mu")`` and friends.

Each is the registered ``Op`` itself; calling it adds a node to the operands' graph.

>>> import bngraph as bg
>>> g = bg.Graph("g")
>>> x = g.input("x", shape=("N", "D"))
>>> bg.mean(x, axis=0, name="mu")
<Node 'mu' mean>
"""

from __future__ import annotations

from .ops import Op, get_op

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "square", "sqrt", "reciprocal", "exp", "log",
    "tanh", "relu", "sum", "mean", "broadcast_to", "broadcast_like", "reshape", "transpose",
    "matmul", "split_axis", "reshape_like",
]

add: Op = get_op("add")
sub: Op = get_op("sub")
mul: Op = get_op("mul")
div: Op = get_op("div")
neg: Op = get_op("neg")
pow: Op = get_op("pow")  # noqa: A001 - the op's name
square: Op = get_op("square")
sqrt: Op = get_op("sqrt")
reciprocal: Op = get_op("reciprocal")
exp: Op = get_op("exp")
log: Op = get_op("log")
tanh: Op = get_op("tanh")
relu: Op = get_op("relu")
sum: Op = get_op("sum")  # noqa: A001 - the op's name
mean: Op = get_op("mean")
broadcast_to: Op = get_op("broadcast_to")
broadcast_like: Op = get_op("broadcast_like")
reshape: Op = get_op("reshape")
transpose: Op = get_op("transpose")
matmul: Op = get_op("matmul")
split_axis: Op = get_op("split_axis")
reshape_like: Op = get_op("reshape_like")
