"""The collapsed view of a large graph: one box per stage, with counts, laid out in
rows that read like text.

Graphviz's layout time grows fast with the number of nodes, so graphs above a
threshold are drawn this way by default (``stage_graph`` decides which boxes and
edges are drawn). The boxes follow the stages' order in rows of a few, left to
right and then down the page: the forward view reads from the first stage, the
backward view from the last one, as the gradient flows. Every box's tooltip
lists the stages it takes from and feeds; ``to_graphviz(graph, stage=...)`` draws
one stage in full.

>>> import bngraph as bg
>>> dot = collapsed_view(bg.library.get("batchnorm").plan, None, "forward", threshold=5).source
>>> '"1 mean" -> "2 center"' in dot
True
"""

from __future__ import annotations

from collections import Counter

import graphviz

from ..ir import INPUT, IR
from .escape import esc_string, html_text, quote_id
from .labels import cut
from .model import DrawnRun, Plan
from .stage_graph import StageGraph, stage_graph
from .style import BACKWARD_COLOR, FONT, FORWARD_COLOR, INPUT_SHAPE, attrs, quoted

__all__ = ["collapsed_view", "ROW", "box_id", "box_statement", "box_tooltip", "edge_statement",
           "row_statements"]

ROW = 5
"""Boxes per row: five boxes and their edge labels fit in a notebook's width."""


def box_id(box: str) -> str:
    """The DOT id of a box: its label, quoted."""
    return quote_id(box)


def _ops_text(ops: Counter[str]) -> str:
    return ", ".join(
        f"{count} {op}" for op, count in sorted(ops.items(), key=lambda i: (-i[1], i[0]))
    )


def _neighbours(sg: StageGraph, box: str) -> str:
    """Every box that ``box`` takes values from and feeds, in the boxes' order."""
    into = [f"{a} ({sg.edges[a, box]})" for a in sg.members if (a, box) in sg.edges]
    out = [f"{b} ({sg.edges[box, b]})" for b in sg.members if (box, b) in sg.edges]
    lines = []
    if into:
        lines.append("takes values from " + ", ".join(into))
    if out:
        lines.append("feeds " + ", ".join(out))
    return "\n".join(lines)


def _count(n: int) -> str:
    return f"{n} node" if n == 1 else f"{n} nodes"


def box_tooltip(sg: StageGraph, box: str) -> str:
    """A box's node count and ops, and every box it takes values from and feeds."""
    text = f"{box}: {_count(len(sg.members[box]))} ({_ops_text(sg.ops[box])})"
    neighbours = _neighbours(sg, box)
    return text + ("\n" + neighbours if neighbours else "")


def box_statement(ir: IR, sg: StageGraph, box: str, number: int | None = None) -> str:
    """One box: its label (name, node count, ops) and a tooltip with all its edges;
    ``number`` gives it the id the viewer reads."""
    names = sg.members[box]
    listed = _ops_text(sg.ops[box])
    rows = [f"<B>{html_text(box)}</B>"]
    if not (len(names) == 1 and names[0] == box):
        rows.append(_count(len(names)))
    rows.append(html_text(cut(listed, 36)))
    shape = INPUT_SHAPE if set(sg.ops[box]) == {INPUT} else "box3d"
    pairs = [("shape", shape), ("label", f"<{'<BR/>'.join(rows)}>")]
    if set(ir.outputs).intersection(names):
        pairs.append(("peripheries", "2"))
    pairs.append(("tooltip", esc_string(box_tooltip(sg, box))))
    if number is not None:
        pairs.append(("id", quoted(f"g{number}")))
    return f"{box_id(box)} {attrs(pairs)}"


def edge_statement(sg: StageGraph, edge: tuple[str, str], view: str, across: bool) -> str:
    """One stage edge, written in reading order: operand to consumer, or in the
    backward view consumer to operand (the way the gradient goes)."""
    source, target = edge
    count = sg.edges[edge]
    pairs = [("label", f"<{count} edges>")] if count > 1 else []
    if view == "backward":
        source, target = target, source
        pairs.append(("color", quoted(BACKWARD_COLOR)))
    elif view == "both":  # one edge carries both directions: fewer edges, a quicker layout
        pairs += [("dir", "both"), ("color", quoted(f"{FORWARD_COLOR}:{BACKWARD_COLOR}"))]
    if across:  # between rows: the rows, not this edge, decide where boxes go
        pairs.append(("constraint", "false"))
    what = "value" if count == 1 else "values"
    pairs.append(("tooltip", esc_string(f"{count} {what} of {edge[0]} used in {edge[1]}")))
    return f"{box_id(source)} -> {box_id(target)} {attrs(pairs)}"


def _rows(boxes: list[str]) -> list[list[str]]:
    return [boxes[k : k + ROW] for k in range(0, len(boxes), ROW)]


def row_statements(rows: list[list[str]]) -> list[str]:
    """Each row on one rank, and invisible edges that stack the rows in columns."""
    lines = [
        "{rank=same; " + " ".join(f"{box_id(b)};" for b in row) + "}" for row in rows
    ]
    for upper, lower in zip(rows, rows[1:], strict=False):
        lines += [  # the last row may be shorter
            f"{box_id(a)} -> {box_id(b)} [style=invis weight=10]"
            for a, b in zip(upper, lower, strict=False)
        ]
    return lines


def collapsed_view(
    plan: Plan,
    run: DrawnRun | None,
    view: str,
    *,
    threshold: int | None = None,
    rankdir: str | None = None,
    tagged: bool = False,
) -> graphviz.Digraph:
    """One box per stage (its node count and ops), in rows of ``ROW``, and the edges
    between stages that ``stage_graph`` keeps.

    ``threshold`` is the size above which the view was chosen automatically (said in
    the note); ``None`` when it was asked for. ``tagged`` gives every box an id the
    viewer reads (``g0``, ``g1``, ... in the boxes' order).
    """
    sg = stage_graph(plan)
    ir = plan.ir
    boxes = list(sg.members)
    if view == "backward":
        boxes.reverse()
    rows = _rows(boxes)
    row_of = {box: k for k, row in enumerate(rows) for box in row}
    column = {box: k for row in rows for k, box in enumerate(row)}
    lines = [
        f"label=<{html_text(_note(ir, sg, view, threshold))}>",
        "labelloc=t",
        f"rankdir={rankdir or 'TB'}",
        "nodesep=0.3",
        "ranksep=0.3",
        f'fontname="{FONT}" fontsize=12',
        f'node [fontname="{FONT}" fontsize=10 margin="0.15,0.05"]',
        f'edge [fontname="{FONT}" fontsize=9]',
    ]
    number = {box: k for k, box in enumerate(sg.members)}
    lines += [box_statement(ir, sg, box, number[box] if tagged else None) for box in boxes]
    for edge in sg.drawn:
        a, b = edge if view != "backward" else edge[::-1]
        across = row_of[a] != row_of[b] or column[a] > column[b]
        lines.append(edge_statement(sg, edge, view, across))
    lines += row_statements(rows)
    dot = graphviz.Digraph(name=None)
    dot.body.extend(f"\t{line}\n" for line in lines)
    return dot


def _note(ir: IR, sg: StageGraph, view: str, threshold: int | None) -> str:
    why = "" if threshold is None else f": {len(ir)} nodes is more than {threshold}"
    lines = [f"{ir.name}: {view} view, collapsed{why}.", "Each stage is drawn as one box."]
    if len(sg.members) < sg.group_count:
        lines.append(f"Its {len(ir.stages)} stages are drawn in {len(sg.members)} groups.")
    left = len(sg.edges) - len(sg.drawn)
    if left:
        lines.append(f"{left} of the {len(sg.edges)} edges between stages are left out:")
        lines.append("those a path through other stages implies, and all but the")
        lines.append("heaviest into a stage. Hover a stage for all of them.")
    lines.append("Draw one stage in full with to_graphviz(stage=...),")
    lines.append("or everything with collapse=False.")
    return "\n".join(lines)
