"""The full view put together: graph attributes, one cluster per stage, edges, legend.

>>> import bngraph as bg
>>> dot = full_view(bg.library.get("batchnorm"), None, "forward").source
>>> '"xmu" -> "sq"' in dot and 'label=<<B>5 std</B>>' in dot
True
"""

from __future__ import annotations

from collections.abc import Iterable

import graphviz

from .escape import html_text
from .facts import Facts, Frame, gather
from .labels import formula
from .layout_cost import QUICK_LAYOUT, is_heavy
from .model import DrawnGraph, DrawnRun
from .statements import (
    backward_edges,
    forward_edges,
    legend_statement,
    node_statement,
    seed_statement,
    sum_statement,
)
from .style import CLUSTER_COLOR, FONT, reading_direction

__all__ = ["full_view", "digraph"]


def digraph(lines: Iterable[str]) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` whose body is ``lines`` (DOT statements), in order."""
    dot = graphviz.Digraph(name=None)
    dot.body.extend(f"\t{line}\n" for line in lines)
    return dot


def _title(facts: Facts, note: str | None) -> str:
    graph, frame = facts.graph, facts.frame
    title = f"{graph.name}: {facts.view} view"
    if len(facts.members) < len(graph):
        stages = {graph.spec(n).stage for n in facts.members}
        title += f" of stage {', '.join(sorted(str(s) for s in stages))}"
    if frame is not None:
        title += f"\n{frame.phase}" + (
            f": {formula(graph, frame.current)}" if frame.current else ""
        )
    if note:
        title += f"\n{note}"
    return title


def _header(facts: Facts, note: str | None, rankdir: str) -> list[str]:
    members = None if len(facts.members) == len(facts.graph) else facts.members
    quick = is_heavy(facts.graph, facts.view, labels=facts.grads, members=members)
    if quick:
        note = (note + "\n" if note else "") + "A heavy drawing: edges are drawn straight."
    return [
        *(QUICK_LAYOUT if quick else ()),
        f"label=<{html_text(_title(facts, note))}>",
        "labelloc=t",
        f"rankdir={rankdir}",
        "newrank=true",
        "nodesep=0.2",
        "ranksep=0.3",
        f'fontname="{FONT}" fontsize=12',
        f'node [fontname="{FONT}" fontsize=10 margin="0.12,0.04"]',
        f'edge [fontname="{FONT}" fontsize=9]',
    ]


def _members_with_sums(facts: Facts, names: Iterable[str]) -> list[str]:
    lines = []
    for name in names:
        lines.append(node_statement(facts, name))
        if facts.backward and name in facts.fan_out and name in facts.members:
            lines.append(sum_statement(facts, name))
    return lines


def _cluster(number: int, stage: str, body: list[str], rankdir: str) -> list[str]:
    top = "labelloc=b" if rankdir == "BT" else "labelloc=t"  # BT turns the cluster over
    return [
        f"subgraph cluster_{number} {{",
        f"\tlabel=<<B>{html_text(stage)}</B>>",
        f'\tstyle="rounded" color="{CLUSTER_COLOR}" fontname="{FONT}" fontsize=11 {top}',
        *(f"\t{line}" for line in body),
        "}",
    ]


def _nodes(facts: Facts, rankdir: str) -> list[str]:
    """Boundary nodes first, then one cluster per stage, then unstaged nodes' sums, seeds."""
    graph = facts.graph
    by_stage: dict[str | None, list[str]] = {}
    for spec in graph.nodes:
        if facts.visible(spec.name):
            key = spec.stage if spec.name in facts.members else None
            by_stage.setdefault(key, []).append(spec.name)
    lines = [node_statement(facts, name) for name in by_stage.pop(None, [])]
    for number, stage in enumerate(graph.stages, start=1):
        if stage in by_stage:
            body = _members_with_sums(facts, by_stage[stage])
            lines += _cluster(number, stage, body, rankdir)
    if facts.backward:
        lines += [
            sum_statement(facts, spec.name)
            for spec in graph.nodes
            if spec.stage is None and spec.name in facts.members and spec.name in facts.fan_out
        ]
        lines += [seed_statement(facts, n) for n in graph.outputs if n in facts.members]
    return lines


def full_view(
    graph: DrawnGraph,
    run: DrawnRun | None,
    view: str,
    *,
    members: Iterable[str] | None = None,
    frame: Frame | None = None,
    legend: bool = True,
    note: str | None = None,
    rankdir: str | None = None,
) -> graphviz.Digraph:
    """Every node of ``graph`` (or of ``members``, with their neighbours greyed).

    Ranks run top to bottom; the backward view is turned over (``rankdir=BT``) so
    that the gradient, too, flows down the page, from the seed to the inputs.
    """
    facts = gather(graph, run, view, members, frame)
    rankdir = rankdir or reading_direction(view)
    lines = _header(facts, note, rankdir) + _nodes(facts, rankdir) + forward_edges(facts)
    if facts.backward:
        lines += backward_edges(facts)
    if legend:
        lines.append(legend_statement(facts))
    return digraph(lines)
