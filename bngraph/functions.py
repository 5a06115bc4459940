"""The op functions of the Python builder: ``bg.mean(x, axis=0, name="mu")`` and friends.

Each is the registered ``Op`` itself; calling it adds a node to the operands' graph.
``help(bg.gelu)`` shows an op's signature, conventions and docstring.

>>> import bngraph as bg
>>> g = bg.Graph("g")
>>> x = g.input("x", shape=("N", "D"))
>>> bg.mean(x, axis=0, name="mu")
<Node 'mu' mean>
>>> bg.clip(x, 0, 6)
<Node 'clip_1' clip>
"""

from __future__ import annotations

from .ops import Op, get_op

__all__ = [
    "add", "sub", "mul", "div", "neg", "pow", "square", "sqrt", "reciprocal", "exp", "log",
    "tanh", "relu", "sum", "mean", "broadcast_to", "broadcast_like", "reshape", "transpose",
    "matmul", "split_axis", "reshape_like", "maximum", "minimum", "abs", "sign", "clip",
    "where", "sigmoid", "softplus", "erf", "gelu", "sin", "cos", "exp2", "log1p", "expm1",
    "greater", "less", "equal", "max", "min", "prod", "var", "std", "logsumexp", "softmax",
    "log_softmax", "take", "take_along_axis", "one_hot", "pad", "flip", "squeeze",
    "expand_dims", "conv2d", "max_pool2d", "avg_pool2d", "concat", "stack",
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
maximum: Op = get_op("maximum")
minimum: Op = get_op("minimum")
abs: Op = get_op("abs")  # noqa: A001 - the op's name
sign: Op = get_op("sign")
clip: Op = get_op("clip")
where: Op = get_op("where")
sigmoid: Op = get_op("sigmoid")
softplus: Op = get_op("softplus")
erf: Op = get_op("erf")
gelu: Op = get_op("gelu")
sin: Op = get_op("sin")
cos: Op = get_op("cos")
exp2: Op = get_op("exp2")
log1p: Op = get_op("log1p")
expm1: Op = get_op("expm1")
greater: Op = get_op("greater")
less: Op = get_op("less")
equal: Op = get_op("equal")
max: Op = get_op("max")  # noqa: A001 - the op's name
min: Op = get_op("min")  # noqa: A001 - the op's name
prod: Op = get_op("prod")
var: Op = get_op("var")
std: Op = get_op("std")
logsumexp: Op = get_op("logsumexp")
softmax: Op = get_op("softmax")
log_softmax: Op = get_op("log_softmax")
take: Op = get_op("take")
take_along_axis: Op = get_op("take_along_axis")
one_hot: Op = get_op("one_hot")
pad: Op = get_op("pad")
flip: Op = get_op("flip")
squeeze: Op = get_op("squeeze")
expand_dims: Op = get_op("expand_dims")
conv2d: Op = get_op("conv2d")
max_pool2d: Op = get_op("max_pool2d")
avg_pool2d: Op = get_op("avg_pool2d")
concat: Op = get_op("concat")
stack: Op = get_op("stack")
