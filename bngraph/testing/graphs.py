"""Graphs made to size, for tests and benchmarks of large graphs.

>>> g = layered(stages=2, width=4)
>>> len(g), g.stages
(19, ('layer 0', 'layer 1', 'sum'))
"""

from __future__ import annotations

from .. import functions as F
from ..graph import Graph

__all__ = ["layered"]


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
