"""The full view put together: graph attributes, one cluster per stage, edges, legend.

>>> import bngraph as bg
>>> dot = full_view(bg.library.get("batchnorm"), None, "forward").source
>>> '"xmu" -> "sq"' in dot and 'label=<<B>5 std</B>>' in dot
True
"""

from __future__ import annotations

from collections.abc import Iterable

import graphviz

from .edges import backward_edges, forward_edges
from .escape import html_text
from .facts import Facts, gather
from .layout_cost import QUICK_LAYOUT, is_heavy
from .model import DrawnGraph, DrawnRun
from .statements import legend_statement, node_statement, seed_statement, sum_statement
from .style import CLUSTER_COLOR, FONT, reading_direction

__all__ = ["full_view", "drawing", "digraph", "header", "body", "cluster", "quick"]


def digraph(lines: Iterable[str]) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` whose body is ``lines`` (DOT statements), in order."""
    dot = graphviz.Digraph(name=None)
    dot.body.extend(f"\t{line}\n" for line in lines)
    return dot


def _title(facts: Facts, note: str | None) -> str:
    graph = facts.graph
    title = f"{graph.name}: {facts.view} view"
    if len(facts.members) < len(graph):
        stages = sorted({facts.specs[n].stage or "(no stage)" for n in facts.members})
        title += f" of {'stage' if len(stages) == 1 else 'stages'} {', '.join(stages)}"
    if facts.rules and facts.backward:
        title += ", with the local rule on each backward edge"
    return title + (f"\n{note}" if note else "")


def quick(facts: Facts) -> bool:
    """Whether the drawing is heavy enough for straight edges and bounded passes."""
    members = None if len(facts.members) == len(facts.graph) else facts.members
    return is_heavy(facts.graph, facts.view, labels=facts.grads, members=members)


def header(title: str, rankdir: str, quick_layout: bool) -> list[str]:
    """Graph attributes: the title on top, ranks in ``rankdir``, compact spacing."""
    if quick_layout:
        title += "\nA heavy drawing: edges are drawn straight."
    return [
        *(QUICK_LAYOUT if quick_layout else ()),
        f"label=<{html_text(title)}>",
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


def cluster(name: str, label: str, body: list[str], rankdir: str, size: int = 11) -> list[str]:
    """A labelled cluster around ``body``; its label on top whatever the direction."""
    top = "labelloc=b" if rankdir == "BT" else "labelloc=t"  # BT turns the cluster over
    return [
        f"subgraph {name} {{",
        f"\tlabel=<<B>{html_text(label)}</B>>",
        f'\tstyle="rounded" color="{CLUSTER_COLOR}" fontname="{FONT}" fontsize={size} {top}',
        *(f"\t{line}" for line in body),
        "}",
    ]


def _nodes(facts: Facts, rankdir: str, prefix: str) -> list[str]:
    """Boundary nodes first, then one cluster per stage, then unstaged nodes' sums, seeds."""
    graph = facts.graph
    by_stage: dict[str | None, list[str]] = {}
    for spec in facts.specs.values():
        if facts.visible(spec.name):
            key = spec.stage if spec.name in facts.members else None
            by_stage.setdefault(key, []).append(spec.name)
    lines = [node_statement(facts, name) for name in by_stage.pop(None, [])]
    for number, stage in enumerate(graph.stages, start=1):
        if stage in by_stage:
            body_lines = _members_with_sums(facts, by_stage[stage])
            lines += cluster(f"cluster_{prefix}{number}", stage, body_lines, rankdir)
    if facts.backward:
        lines += [
            sum_statement(facts, spec.name)
            for spec in facts.specs.values()
            if spec.stage is None and spec.name in facts.members and spec.name in facts.fan_out
        ]
        lines += [seed_statement(facts, n) for n in graph.outputs if n in facts.members]
    return lines


def body(facts: Facts, rankdir: str, *, legend: bool = True, prefix: str = "") -> list[str]:
    """Nodes in their stage clusters, forward and backward edges, and the legend;
    ``prefix`` keeps cluster names apart when two graphs share a picture."""
    lines = _nodes(facts, rankdir, prefix) + forward_edges(facts)
    if facts.backward:
        lines += backward_edges(facts)
    if legend:
        lines.append(legend_statement(facts))
    return lines


def full_view(
    graph: DrawnGraph,
    run: DrawnRun | None,
    view: str,
    *,
    members: Iterable[str] | None = None,
    legend: bool = True,
    note: str | None = None,
    rankdir: str | None = None,
    **options: object,
) -> graphviz.Digraph:
    """Every node of ``graph`` (or of ``members``, with their neighbours greyed).

    Ranks run top to bottom; the backward view is turned over (``rankdir=BT``) so
    that the gradient, too, flows down the page, from the seed to the inputs.
    ``options`` are those of ``gather`` (``rules``, ``checks``, ``tagged``).
    """
    facts = gather(graph, run, view, members, **options)  # type: ignore[arg-type]
    return drawing(facts, rankdir=rankdir, legend=legend, note=note)


def drawing(
    facts: Facts, *, rankdir: str | None = None, legend: bool = True, note: str | None = None
) -> graphviz.Digraph:
    """The full view of what ``facts`` gathered."""
    rankdir = rankdir or reading_direction(facts.view)
    lines = header(_title(facts, note), rankdir, quick(facts)) + body(facts, rankdir, legend=legend)
    return digraph(lines)
