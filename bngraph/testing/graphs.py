"""Graphs made to size, for tests and benchmarks of large graphs.

>>> g = layered(stages=2, width=4)
>>> len(g), g.stages
(19, ('layer 0', 'layer 1', 'sum'))
>>> g = random_staged(nodes=50, stages=5, seed=0)
>>> len(g), len(g.stages)
(50, 5)
"""

from __future__ import annotations

import random

from .. import functions as F
from ..graph import Graph, Node

__all__ = ["layered", "random_staged", "chain"]


def layered(stages: int, width: int) -> Graph:
    """``stages`` stages of ``width`` nodes (node k of a stage mixes nodes k and k+1 of
    the stage before), then a stage summing the last one; the graph is left open."""
    g = Graph("layered")
    layer = [g.input(f"x{k}") for k in range(width)]
    for s in range(stages):
        with g.stage(f"layer {s}"):
            layer = [F.tanh(layer[k] * layer[(k + 1) % width]) for k in range(width // 2)] + [
                layer[k] + 1.0 for k in range(width // 2, width)
            ]
    with g.stage("sum"):
        total = layer[0]
        for node in layer[1:]:
            total = total + node
    g.output(total.named("total"))
    return g


def random_staged(nodes: int, stages: int, seed: int = 0, inputs: int = 4) -> Graph:
    """``nodes`` nodes in ``stages`` equal stages after ``inputs`` inputs, each node an
    add, mul or tanh of nodes drawn uniformly from all the nodes before it, so that
    every stage feeds nearly every later one; the last node is the output."""
    rng = random.Random(seed)
    g = Graph("random_staged")
    made: list[Node] = [g.input(f"x{k}") for k in range(inputs)]
    per_stage = max(1, -(-(nodes - inputs) // stages))
    for k in range(nodes - inputs):
        with g.stage(f"stage {k // per_stage}"):
            a, b = rng.choice(made), rng.choice(made)
            kind = rng.randrange(3)
            made.append(F.tanh(a) if kind == 2 else (a + b if kind == 0 else a * b))
    g.output(made[-1])
    return g


def chain(nodes: int, stages: int) -> Graph:
    """One input and ``nodes - 1`` tanh nodes in a line, cut into ``stages`` equal stages."""
    g = Graph("chain")
    node = g.input("x")
    per_stage = max(1, -(-(nodes - 1) // stages))
    for k in range(nodes - 1):
        with g.stage(f"stage {k // per_stage}"):
            node = F.tanh(node)
    g.output(node)
    return g
