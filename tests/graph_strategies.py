"""A hypothesis strategy for random valid graphs, built with the Python builder."""

from __future__ import annotations

import keyword
from typing import Any

from hypothesis import strategies as st

import bngraph as bg

# a user-defined op with parameters of every literal kind
bg.define_op(
    "strategy_affine",
    lambda x, scale=1.0, shift=0, flag=False, axes=None: x * scale + shift,
    vjps=[lambda g, out, x, scale=1.0, shift=0, flag=False, axes=None: g * scale],
    replace=True,
)

LANGUAGE_KEYWORDS = {"graph", "input", "stage", "output"}

names = st.from_regex(r"[a-zA-Z][a-zA-Z0-9_]{0,6}", fullmatch=True).filter(
    lambda n: not keyword.iskeyword(n) and n not in LANGUAGE_KEYWORDS
)
labels = st.one_of(
    st.sampled_from(["1 mean", "2 center", 'say "hi" # not a comment', "tab\there", "é √"]),
    st.text(min_size=1, max_size=8),
)
numbers = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1.0, -1.0, 2.0, 0.5, 1e-5, 1e16, 123456789.0, 5e-324]),
    st.integers(-10**6, 10**6).map(float),
)
exponents = st.one_of(
    st.integers(-5, 5), st.floats(-4, 4, allow_nan=False), st.sampled_from([2, 2.0, -0.0])
)
int_tuples = st.lists(st.integers(-3, 3), max_size=3).map(tuple)

UNARY = ["neg", "exp", "log", "sqrt", "tanh", "relu", "square", "reciprocal"]
BINARY = ["add", "sub", "mul", "div", "matmul", "broadcast_like"]


@st.composite
def graphs(draw: Any) -> bg.Graph:
    """A valid graph: inputs, random ops on random operands, random names, stages, outputs."""
    graph_name = draw(st.one_of(names, st.text(min_size=1, max_size=10)))
    g = bg.Graph(graph_name)
    nodes: list[bg.Node] = []
    used: set[str] = set()

    def fresh(name_pool: Any) -> str:
        name = draw(name_pool.filter(lambda n: n not in used and n not in g))
        used.add(name)
        return name

    for _ in range(draw(st.integers(1, 3))):
        shape = draw(st.one_of(st.none(), st.lists(st.one_of(names, st.integers(0, 5)),
                                                   max_size=3)))
        default = draw(st.one_of(st.none(), numbers))
        stage = draw(st.one_of(st.none(), labels))
        with _stage(g, stage):
            nodes.append(g.input(fresh(names), shape=shape, default=default))
    stage: str | None = None
    for _ in range(draw(st.integers(1, 10))):
        if draw(st.booleans()):
            stage = draw(st.one_of(st.none(), labels))
        with _stage(g, stage):
            node = _random_node(draw, nodes)
        if draw(st.booleans()):
            node.named(fresh(names))
        nodes.append(node)
    non_inputs = [n for n in nodes if n.op != "input"]
    chosen = draw(st.lists(st.sampled_from(non_inputs), min_size=1, unique_by=lambda n: n.index))
    g.output(*chosen)
    return g


def _stage(g: bg.Graph, label: str | None) -> Any:
    from contextlib import nullcontext

    return g.stage(label) if label is not None else nullcontext()


def _random_node(draw: Any, nodes: list[bg.Node]) -> bg.Node:
    pick = st.sampled_from(nodes)
    kind = draw(st.sampled_from(["unary", "binary", "pow", "reduce", "shape", "user"]))
    if kind == "unary":
        return bg.ops.get_op(draw(st.sampled_from(UNARY)))(draw(pick))
    if kind == "binary":
        op = draw(st.sampled_from(BINARY))
        left, right = draw(pick), draw(pick)
        if draw(st.booleans()):
            if draw(st.booleans()):
                left = draw(numbers)
            else:
                right = draw(numbers)
        return bg.ops.get_op(op)(left, right)
    if kind == "pow":
        return bg.pow(draw(pick), exponent=draw(exponents))
    if kind == "reduce":
        op = bg.ops.get_op(draw(st.sampled_from(["sum", "mean"])))
        axis = draw(st.one_of(st.none(), st.integers(-2, 2), int_tuples))
        return op(draw(pick), axis=axis, keepdims=draw(st.booleans()))
    if kind == "shape":
        if draw(st.booleans()):
            return bg.transpose(draw(pick), axes=draw(st.one_of(st.none(), int_tuples)))
        return bg.reshape(draw(pick), shape=draw(int_tuples))
    params = draw(st.fixed_dictionaries({}, optional={
        "scale": numbers, "shift": st.integers(-9, 9), "flag": st.booleans(),
        "axes": st.one_of(st.none(), int_tuples),
    }))
    return bg.ops.get_op("strategy_affine")(draw(pick), **params)
