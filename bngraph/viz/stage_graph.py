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
from collections.abc import Sequence
from dataclasses import dataclass

import networkx as nx

from .model import DrawnGraph, NodeRecord

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


def groups(graph: DrawnGraph, specs: Sequence[NodeRecord] | None = None) -> dict[str, str]:
    """The group each node is drawn in: its stage; unstaged nodes are drawn one by one
    when there are a few, else together as ``(no stage)`` (``(no stage) 1``, ``2``, ...
    by ``UNSTAGED_CHUNK`` in definition order when there are many).

    >>> import bngraph as bg
    >>> groups(bg.library.get("batchnorm"))["x"], groups(bg.library.get("batchnorm"))["mu"]
    ('x', '1 mean')
    """
    specs = graph.nodes if specs is None else specs
    unstaged = [s.name for s in specs if s.stage is None]
    loose = len(unstaged) <= LOOSE_LIMIT
    chunks = len(unstaged) > UNSTAGED_CHUNK
    stages = set(graph.stages)
    result = {}
    for spec in specs:
        if spec.stage is not None:
            result[spec.name] = spec.stage
        elif loose and spec.name not in stages:
            result[spec.name] = spec.name
        else:
            result[spec.name] = UNSTAGED
    if chunks:
        for k, name in enumerate(unstaged):
            result[name] = f"{UNSTAGED} {k // UNSTAGED_CHUNK + 1}"
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
        boxes.update({g: label for g in run})
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


def stage_graph(graph: DrawnGraph, limit: int = MAX_GROUPS) -> StageGraph:
    """The boxes and edges of ``graph``'s collapsed view."""
    specs = graph.nodes  # read once: the records of a large graph take a while to make
    group_of = groups(graph, specs)
    order = list(dict.fromkeys(group_of.values()))
    box_of_group = _merge(order, limit)
    members: dict[str, list[str]] = {}
    ops: dict[str, Counter[str]] = {}
    for spec in specs:
        members.setdefault(box_of_group[group_of[spec.name]], []).append(spec.name)
        ops.setdefault(box_of_group[group_of[spec.name]], Counter())[spec.op] += 1
    box = {name: box_of_group[g] for name, g in group_of.items()}
    edges: Counter[tuple[str, str]] = Counter()
    for spec in specs:
        for operand in spec.operands:
            if isinstance(operand, str) and box[operand] != box[spec.name]:
                edges[(box[operand], box[spec.name])] += 1
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
