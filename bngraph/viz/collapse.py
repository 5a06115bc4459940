"""The collapsed view of a large graph: one node per stage, with counts, and the
edges between stages.

Graphviz's layout time grows fast with the number of nodes, so graphs above a
threshold are drawn this way by default; ``to_graphviz(graph, stage=...)`` draws
one stage in full.

>>> import bngraph as bg
>>> dot = collapsed_view(bg.library.get("batchnorm"), None, "forward", threshold=5).source
>>> '"1 mean" -> "2 center"' in dot
True
"""

from __future__ import annotations

from collections import Counter
import graphviz

from .escape import esc_string, html_text, quote_id
from .model import DrawnGraph, DrawnRun
from .style import BACKWARD_COLOR, FONT, INPUT, INPUT_SHAPE, attrs, quoted

__all__ = ["collapsed_view", "groups", "UNSTAGED"]

UNSTAGED = "(no stage)"
"""The group of nodes outside every stage (when there are too many to draw one by one)."""

_LOOSE_LIMIT = 12


def groups(graph: DrawnGraph) -> dict[str, str]:
    """The group each node is drawn in: its stage; unstaged nodes are drawn one by one
    when there are a few, else together as ``(no stage)``.

    >>> import bngraph as bg
    >>> groups(bg.library.get("batchnorm"))["x"], groups(bg.library.get("batchnorm"))["mu"]
    ('x', '1 mean')
    """
    unstaged = [s.name for s in graph.nodes if s.stage is None]
    loose = len(unstaged) <= _LOOSE_LIMIT
    stages = set(graph.stages)
    result = {}
    for spec in graph.nodes:
        if spec.stage is not None:
            result[spec.name] = spec.stage
        elif loose and spec.name not in stages:
            result[spec.name] = spec.name
        else:
            result[spec.name] = UNSTAGED
    return result


def collapsed_view(
    graph: DrawnGraph,
    run: DrawnRun | None,
    view: str,
    *,
    threshold: int | None = None,
) -> graphviz.Digraph:
    """One box per stage (its node count and ops), an edge per pair of connected stages.

    ``threshold`` is the size above which the view was chosen automatically (said in
    the note); ``None`` when it was asked for.
    """
    group_of = groups(graph)
    members: dict[str, list[str]] = {}
    for spec in graph.nodes:
        members.setdefault(group_of[spec.name], []).append(spec.name)
    outputs = set(graph.outputs)
    lines = [
        f"label=<{html_text(_note(graph, view, threshold))}>",
        "labelloc=t",
        "rankdir=LR",
        f'node [fontname="{FONT}" fontsize=10]',
        f'edge [fontname="{FONT}" fontsize=9]',
    ]
    for group, names in members.items():
        ops = Counter(graph.spec(n).op for n in names)
        listed = ", ".join(
            f"{count} {op}" for op, count in sorted(ops.items(), key=lambda i: (-i[1], i[0]))
        )
        single = len(names) == 1 and names[0] == group
        if single:
            label = f"<<B>{html_text(group)}</B><BR/>{html_text(listed)}>"
        else:
            size, kinds = _count(len(names)), html_text(_cut(listed))
            label = f"<<B>{html_text(group)}</B><BR/>{size}<BR/>{kinds}>"
        shape = INPUT_SHAPE if all(graph.spec(n).op == INPUT for n in names) else "box3d"
        pairs = [f"shape={shape}", f"label={label}"]
        if outputs.intersection(names):
            pairs.append("peripheries=2")
        tooltip = f"{group}: {_count(len(names))} ({listed})"
        pairs.append(f"tooltip={esc_string(tooltip)}")
        lines.append(f"{quote_id(group)} [{' '.join(pairs)}]")
    edges: Counter[tuple[str, str]] = Counter()
    for spec in graph.nodes:
        for operand in spec.operands:
            if isinstance(operand, str) and group_of[operand] != group_of[spec.name]:
                edges[(group_of[operand], group_of[spec.name])] += 1
    backward = view in ("backward", "both")
    forward = view in ("forward", "both")
    for (source, target), count in edges.items():
        label = f" label=<{count} edges>" if count > 1 else ""
        if forward:
            lines.append(f"{quote_id(source)} -> {quote_id(target)} [{label.strip()}]")
        if backward:
            pairs = attrs([("dir", "back"), ("color", quoted(BACKWARD_COLOR))])
            lines.append(f"{quote_id(source)} -> {quote_id(target)} {pairs}")
    dot = graphviz.Digraph(name=None)
    dot.body.extend(f"\t{line}\n" for line in lines)
    return dot


def _note(graph: DrawnGraph, view: str, threshold: int | None) -> str:
    why = "" if threshold is None else f": {len(graph)} nodes is more than {threshold}"
    return (
        f"{graph.name}: {view} view, collapsed{why}, so each stage is drawn as one node.\n"
        "Draw one stage in full with to_graphviz(stage=...), or everything with collapse=False."
    )


def _count(n: int) -> str:
    return f"{n} node" if n == 1 else f"{n} nodes"


def _cut(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
