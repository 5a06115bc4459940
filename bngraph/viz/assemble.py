"""The full view put together: graph attributes, one cluster per stage, edges, legend.

>>> import bngraph as bg
>>> dot = full_view(bg.library.get("batchnorm").plan, None, "forward").source
>>> '"xmu" -> "sq"' in dot and 'label=<<B>5 std</B>>' in dot
True
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace

import graphviz

from .edges import backward_edges, forward_edges
from .escape import html_text
from .facts import Facts, Verdict, gather
from .layout_cost import QUICK_LAYOUT, is_heavy
from .model import DrawnRun, Plan
from .statements import legend_table, node_statement, seed_statement, sum_statement
from .style import CLUSTER_COLOR, FONT, reading_direction

__all__ = ["full_view", "drawing", "digraph", "header", "body", "cluster", "quick"]


def digraph(lines: Iterable[str]) -> graphviz.Digraph:
    """A ``graphviz.Digraph`` whose body is ``lines`` (DOT statements), in order."""
    dot = graphviz.Digraph(name=None)
    dot.body.extend(f"\t{line}\n" for line in lines)
    return dot


def _title(facts: Facts, note: str | None) -> str:
    title = f"{facts.ir.name}: {facts.view} view"
    if len(facts.members) < len(facts.ir):
        stages = sorted({facts.specs[n].stage or "(no stage)" for n in facts.members})
        title += f" of {'stage' if len(stages) == 1 else 'stages'} {', '.join(stages)}"
    if facts.rules and facts.backward:
        title += ", with the local rule on each backward edge"
    return title + (f"\n{note}" if note else "")


def quick(facts: Facts) -> bool:
    """Whether the drawing is heavy enough for straight edges and bounded passes."""
    members = None if len(facts.members) == len(facts.ir) else facts.members
    return is_heavy(facts.plan, facts.view, labels=facts.grads, members=members)


def header(title: str, rankdir: str, quick_layout: bool, legend: str | None = None) -> list[str]:
    """Graph attributes: the title (and ``legend``, an HTML-like table) on top, ranks in
    ``rankdir``, compact spacing."""
    if quick_layout:
        title += "\nA heavy drawing: edges are drawn straight, their values are in tooltips."
    label = html_text(title)
    if legend is not None:
        label = f'<TABLE BORDER="0"><TR><TD>{label}</TD></TR><TR><TD>{legend}</TD></TR></TABLE>'
    return [
        *(QUICK_LAYOUT if quick_layout else ()),
        f"label=<{label}>",
        "labelloc=t",
        f"rankdir={rankdir}",
        "newrank=true",
        "nodesep=0.2",
        "ranksep=0.3",
        f'fontname="{FONT}" fontsize=12',
        f'node [fontname="{FONT}" fontsize=10 margin="0.12,0.04"]',  # wide: metrics differ
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
    by_stage: dict[str | None, list[str]] = {}
    for spec in facts.specs.values():
        if facts.visible(spec.name):
            key = spec.stage if spec.name in facts.members else None
            by_stage.setdefault(key, []).append(spec.name)
    lines = [node_statement(facts, name) for name in by_stage.pop(None, [])]
    for number, stage in enumerate(facts.ir.stages, start=1):
        if stage in by_stage:
            body_lines = _members_with_sums(facts, by_stage[stage])
            lines += cluster(f"cluster_{prefix}{number}", stage, body_lines, rankdir)
    if facts.backward:
        lines += [
            sum_statement(facts, spec.name)
            for spec in facts.specs.values()
            if spec.stage is None and spec.name in facts.members and spec.name in facts.fan_out
        ]
        lines += [seed_statement(facts, n) for n in facts.ir.outputs if n in facts.members]
    return lines


def body(facts: Facts, rankdir: str, *, prefix: str = "") -> list[str]:
    """Nodes in their stage clusters, forward and backward edges; ``prefix`` keeps
    cluster names apart when two graphs share a picture."""
    lines = _nodes(facts, rankdir, prefix) + forward_edges(facts)
    if facts.backward:
        lines += backward_edges(facts)
    return lines


def full_view(
    plan: Plan,
    run: DrawnRun | None,
    view: str,
    *,
    members: Iterable[str] | None = None,
    legend: bool = True,
    note: str | None = None,
    rankdir: str | None = None,
    rules: bool = False,
    checks: Mapping[str, Verdict] | None = None,
    tagged: bool = False,
) -> graphviz.Digraph:
    """Every node of ``plan``'s graph (or of ``members``, with their neighbours greyed).

    Ranks run top to bottom; the backward view is turned over (``rankdir=BT``) so
    that the gradient, too, flows down the page, from the seed to the inputs.
    ``rules``, ``checks`` and ``tagged`` are those of ``gather``.
    """
    facts = gather(plan, run, view, members, rules=rules, checks=checks, tagged=tagged)
    return drawing(facts, rankdir=rankdir, legend=legend, note=note)


def drawing(
    facts: Facts, *, rankdir: str | None = None, legend: bool = True, note: str | None = None
) -> graphviz.Digraph:
    """The full view of what ``facts`` gathered."""
    rankdir = rankdir or reading_direction(facts.view)
    table = legend_table(facts) if legend else None
    heavy = quick(facts)
    if heavy:
        facts = replace(facts, edge_labels=False)
    lines = header(_title(facts, note), rankdir, heavy, table) + body(facts, rankdir)
    return digraph(lines)
