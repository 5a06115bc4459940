"""How much work a full drawing is for Graphviz, estimated from the graph alone.

``dot`` spends its time routing every edge past every node and every bend of the
long edges ("virtual nodes", one per rank an edge crosses; an edge label doubles
the ranks). A 198-node graph whose leaves all feed one long chain of sums takes
more than ten minutes in the both view, a thousand-node chain a second. So the
cost of a drawing is estimated as edges × (nodes + virtual nodes), on ranks
computed as dot would (ops as early as their operands allow, inputs just above
their first consumer). The estimate depends on the graph only, so the choices it
drives (collapse by default, route edges straight) keep the DOT text deterministic.

>>> import bngraph as bg
>>> from bngraph.testing.graphs import chain
>>> layout_cost(bg.library.get("batchnorm").plan, "both", labels=True) < QUICK_COST
True
>>> layout_cost(chain(150, 1).plan, "forward", labels=False) < QUICK_COST
True
"""

from __future__ import annotations

from collections.abc import Collection

from .model import Plan

__all__ = ["QUICK_COST", "QUICK_LAYOUT", "ranks", "layout_cost", "is_heavy"]

QUICK_COST = 200_000
"""Above this estimate dot's curved edges may take seconds (measured here: a 98-node fan
of leaves into a chain of sums, estimated 1.4 million, took 25 s in the both view; one of
58 nodes, 0.3 million, 1.2 s), so such drawings route their edges straight."""

QUICK_LAYOUT = ("splines=line", "nslimit=1", "nslimit1=1", "mclimit=0.1")
"""Graph attributes of a quick layout: straight edges, and bounded passes of dot's
ranking, ordering and positioning. Such a drawing also leaves its backward edges
unlabelled (the values stay in the tooltips): measured here, the 198-node fan takes
more than ten minutes with curved labelled edges, 5 s with straight ones, 1.2 s
without the labels."""


def ranks(plan: Plan) -> list[int]:
    """Each node's rank by index: an op one below its lowest operand, an input one
    above its highest consumer (as dot's ranking pulls it down)."""
    rank = [0] * len(plan.uses)
    operands: list[list[int]] = [[] for _ in plan.uses]
    for operand, uses in enumerate(plan.uses):
        for consumer, _ in uses:
            operands[consumer].append(operand)
    inputs = set(plan.inputs)
    for node in plan.order:
        below = [rank[o] for o in operands[node] if o not in inputs]
        rank[node] = 1 + max(below, default=0)
    for node in inputs:
        consumers = [rank[c] for c, _ in plan.uses[node]]
        rank[node] = min(consumers, default=1) - 1
    return rank


def layout_cost(
    plan: Plan, view: str, *, labels: bool, members: Collection[str] | None = None
) -> int:
    """Edges × (nodes + virtual nodes) of the full drawing of ``plan``'s graph in ``view``
    (of the edges that touch ``members``, when only they are drawn); ``labels`` when
    backward edges carry labels (a run with gradients)."""
    rank = ranks(plan)
    names = plan.ir.names
    drawn = None
    if members is not None:
        position = {name: k for k, name in enumerate(names)}
        drawn = {position[n] for n in members}
    spans = [
        rank[c] - rank[o]
        for o, uses in enumerate(plan.uses)
        for c, _ in uses
        if drawn is None or o in drawn or c in drawn
    ]
    red = view in ("backward", "both")
    stretch = 2 if red and labels else 1
    bends = sum(max(0, stretch * s - 1) for s in spans)
    edges = len(spans) * (2 if red else 1)
    nodes = len(rank) if drawn is None else 3 * len(drawn)  # members and some neighbours
    boxes = nodes + bends * (2 if red else 1)
    return edges * boxes


def is_heavy(
    plan: Plan, view: str, *, labels: bool, members: Collection[str] | None = None
) -> bool:
    """Whether the full drawing's estimated cost is above ``QUICK_COST``."""
    return layout_cost(plan, view, labels=labels, members=members) > QUICK_COST
