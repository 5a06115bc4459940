"""The stage graph behind the collapsed view: boxes (stages, or runs of consecutive
stages), the operand edges between them, and the few edges worth drawing.

A stage graph where every stage feeds nearly every later one (800 edges between
41 stages) takes Graphviz minutes to lay out and reads as a hairball. So at most
``MAX_GROUPS`` boxes are drawn (consecutive stages are grouped beyond that), the
edges that a path through other boxes already implies are left out (the
transitive reduction, computed with networkx), and at most ``MAX_INCOMING``
edges go into each box, the heaviest.

>>> from bngraph.testing.graphs import random_staged
>>> sg = stage_graph(random_staged(nodes=2000, stages=20, seed=1))
>>> len(sg.edges) > 150, len(sg.drawn) <= 21 * MAX_INCOMING
(True, True)
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import networkx as nx

from .model import IR, Planned

__all__ = [
    "StageGraph",
    "stage_graph",
    "groups",
    "UNSTAGED",
    "MAX_GROUPS",
    "MAX_INCOMING",
    "LOOSE_LIMIT",
    "UNSTAGED_CHUNK",
]

UNSTAGED = "(no stage)"
"""The group of nodes outside every stage (when there are too many to draw one by one)."""

MAX_GROUPS = 48
"""More stages than this are drawn in groups of consecutive stages."""

MAX_INCOMING = 3
"""At most this many edges are drawn into one box: the heaviest ones."""

LOOSE_LIMIT = 12
"""Up to this many nodes outside every stage are drawn one by one."""

UNSTAGED_CHUNK = 100
"""Beyond ``LOOSE_LIMIT``, nodes outside every stage are grouped this many at a time."""


def groups(ir: IR) -> list[str]:
    """The group each node is drawn in, by index: its stage; unstaged nodes are drawn
    one by one when there are a few, else together as ``(no stage)`` (``(no stage) 1``,
    ``2``, ... by ``UNSTAGED_CHUNK`` in definition order when there are many).

    >>> import bngraph as bg
    >>> ir = bg.library.get("batchnorm").ir
    >>> found = groups(ir)
    >>> found[ir.lookup("x")], found[ir.lookup("mu")]
    ('x', '1 mean')
    """
    stages = ir.node_stages
    unstaged = [k for k, stage in enumerate(stages) if stage is None]
    loose = len(unstaged) <= LOOSE_LIMIT
    labels = set(ir.stages)
    result = [
        stage if stage is not None
        else ir.names[k] if loose and ir.names[k] not in labels
        else UNSTAGED
        for k, stage in enumerate(stages)
    ]
    if len(unstaged) > UNSTAGED_CHUNK:
        for position, k in enumerate(unstaged):
            result[k] = f"{UNSTAGED} {position // UNSTAGED_CHUNK + 1}"
    return result


def _merge(order: list[str], limit: int) -> dict[str, str]:
    """Each group's box: itself, or beyond ``limit`` groups a run of consecutive ones
    labelled ``first … last``."""
    if len(order) <= limit:
        return {g: g for g in order}
    size = -(-len(order) // limit)
    boxes: dict[str, str] = {}
    for start in range(0, len(order), size):
        run = order[start : start + size]
        label = run[0] if len(run) == 1 else f"{run[0]} … {run[-1]}"
        while label in boxes.values() or (len(run) > 1 and label in order):
            label += "'"  # a stage may itself be called "a … b"
        boxes.update(dict.fromkeys(run, label))
    return boxes


@dataclass(frozen=True)
class StageGraph:
    """The boxes of a collapsed view, their members, every edge between two boxes
    with the number of operand edges it stands for, and the edges drawn."""

    members: dict[str, list[str]]
    ops: dict[str, Counter[str]]
    edges: Counter[tuple[str, str]]
    drawn: tuple[tuple[str, str], ...]
    group_count: int


def _reduced(edges: Counter[tuple[str, str]]) -> set[tuple[str, str]]:
    """The edges no path through other boxes implies (on the condensation when the
    boxes form a cycle)."""
    dag = nx.DiGraph(list(edges))
    condensed = nx.condensation(dag)
    component = condensed.graph["mapping"]
    kept = set(nx.transitive_reduction(condensed).edges)
    return {
        (a, b) for a, b in edges
        if component[a] == component[b] or (component[a], component[b]) in kept
    }


def stage_graph(source: Planned, limit: int = MAX_GROUPS) -> StageGraph:
    """The boxes and edges of the collapsed view of a graph (or plan)."""
    ir = source.plan.ir
    group_of = groups(ir)
    order = list(dict.fromkeys(group_of))
    box_of_group = _merge(order, limit)
    box = [box_of_group[g] for g in group_of]
    members: dict[str, list[str]] = {}
    ops: dict[str, Counter[str]] = {}
    for k, name in enumerate(ir.names):
        members.setdefault(box[k], []).append(name)
        ops.setdefault(box[k], Counter())[ir.ops[k]] += 1
    edges: Counter[tuple[str, str]] = Counter()
    for k, operands in enumerate(ir.operands):
        for operand in operands:
            if isinstance(operand, int) and box[operand] != box[k]:
                edges[(box[operand], box[k])] += 1
    return StageGraph(members, ops, edges, _drawn(edges), len(order))


def _drawn(edges: Counter[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    """The edges no path implies, the heaviest ``MAX_INCOMING`` into each box, and for
    every box that would be left without a way out, its heaviest one."""
    kept = sorted(_reduced(edges) if edges else set(), key=lambda e: (-edges[e], e))
    into: Counter[str] = Counter()
    connected: set[str] = set()  # boxes with a drawn edge out
    drawn = set()
    for edge in kept:
        if into[edge[1]] < MAX_INCOMING or edge[0] not in connected:
            drawn.add(edge)
            into[edge[1]] += 1
            connected.add(edge[0])
    return tuple(e for e in edges if e in drawn)
