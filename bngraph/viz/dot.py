"""DOT text for a graph and optionally a run: pure functions, deterministic output.

``to_graphviz(graph, run, view)`` draws the forward view (values, black edges),
the backward view (gradients, red edges, one visible sum where a value feeds
several consumers) or both. Each stage is a labelled cluster; inputs are
ellipses, ops boxes, outputs double-bordered; every node shows its name, op,
shape, schedule steps and, with a run, a summary of its value and gradient. Node
ids are the node names, quoted and escaped.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> dot = to_graphviz(g).source
>>> '"xmu" -> "sq"' in dot and 'label=<<B>5 std</B>>' in dot
True
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import graphviz
import numpy as np

from ..errors import BngraphError, RunStateError, ShapeError, closest
from ..ops import format_shape, get_op
from ..shapes import static_shapes
from .escape import esc_string, html_text, quote_id
from .summary import full_text, summarize

if TYPE_CHECKING:
    from ..graph import Graph, NodeSpec
    from ..run import Run

__all__ = [
    "VIEWS",
    "COLLAPSE_THRESHOLD",
    "VizError",
    "Frame",
    "to_graphviz",
    "full_view",
    "formula",
    "has_gradients",
    "default_view",
]

VIEWS = ("forward", "backward", "both")
COLLAPSE_THRESHOLD = 200
"""Graphs with more nodes than this are drawn collapsed (one node per stage) by default:
Graphviz's layout takes seconds from about a thousand nodes."""

FORWARD_COLOR = "black"
BACKWARD_COLOR = "#cc0000"
SAVED_FILL = "#fff2b3"
INPUT_FILL = "#e8f0ff"
CURRENT_FILL = "#ffb347"
PENDING_COLOR = "#b0b0b0"


class VizError(BngraphError, ValueError):
    """A drawing asked for something that does not exist (a view, a stage, a format)."""


@dataclass(frozen=True)
class Frame:
    """One moment of a run, for the step-by-step player.

    ``current`` is the node being computed; ``values`` and ``grads`` are the nodes
    whose value (gradient) is known at that moment; ``edges`` are the backward
    edges ``(consumer, position)`` that have sent their gradient.
    """

    phase: str
    current: str | None
    values: frozenset[str]
    grads: frozenset[str] = frozenset()
    edges: frozenset[tuple[str, int]] = frozenset()


def has_gradients(run: Run) -> bool:
    """Whether ``run.backward()`` has been called on ``run``."""
    try:
        run.grad(run.graph.names[0])
    except RunStateError:
        return False
    return True


def default_view(run: Run | None) -> str:
    """``"both"`` for a run with gradients, else ``"forward"``."""
    return "both" if run is not None and has_gradients(run) else "forward"


def check_view(view: str) -> str:
    """``view`` if it is one of ``VIEWS``, else a ``VizError`` listing them."""
    if view not in VIEWS:
        raise VizError(f"no view {view!r}{closest(str(view), VIEWS)}; views: {', '.join(VIEWS)}")
    return view


def formula(graph: Graph, name: str) -> str:
    """The node as an equation: ``xmu = x − mu``, ``mu = mean(x, axis=0)``.

    >>> import bngraph as bg
    >>> g = bg.library.get("batchnorm")
    >>> formula(g, "ivar"), formula(g, "mu"), formula(g, "sq"), formula(g, "x")
    ('ivar = 1 ÷ sqrtvar', 'mu = mean(x, axis=0)', 'sq = xmu^2', 'x: input [N, D]')
    """
    spec = graph.spec(name)
    if spec.op == "input":
        shape = spec.params.get("shape")
        text = f"{name}: input"
        if shape is not None:
            text += " [" + ", ".join(map(str, shape)) + "]"
        if spec.params.get("default") is not None:
            text += f" = {spec.params['default']:g}"
        return text
    return f"{name} = {expression(graph, name)}"


def expression(graph: Graph, name: str) -> str:
    """The right-hand side of an op node's formula: ``x − mu``, ``√add_1``."""
    spec = graph.spec(name)
    operands = [_operand_text(o) for o in spec.operands]
    symbol = get_op(spec.op).display(spec.params)
    if len(operands) == 2 and len(symbol) == 1 and not symbol.isalnum():
        return f"{operands[0]} {symbol} {operands[1]}"
    if len(operands) == 1 and _PLACEHOLDER.search(symbol):
        return _PLACEHOLDER.sub(lambda _: operands[0], symbol)
    params = [f"{k}={_param_text(v)}" for k, v in spec.params.items()]
    return f"{spec.op}({', '.join([*operands, *params])})"


_PLACEHOLDER = re.compile(r"(?<![A-Za-z_])x(?![A-Za-z_0-9])")
"""The operand in an op's label: the ``x`` of ``√x`` or ``x^2``, not the one in ``axis``."""


def _operand_text(operand: str | float) -> str:
    return operand if isinstance(operand, str) else f"{operand:g}"


def _param_text(value: Any) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def to_graphviz(
    graph: Graph,
    run: Run | None = None,
    view: str | None = None,
    *,
    collapse: bool | None = None,
    stage: str | None = None,
    threshold: int = COLLAPSE_THRESHOLD,
    legend: bool = True,
) -> graphviz.Digraph:
    """Draw ``graph`` (and ``run``) as a ``graphviz.Digraph``.

    ``view`` is ``"forward"``, ``"backward"`` or ``"both"`` (default: both for a
    run with gradients, else forward). Graphs of more than ``threshold`` nodes are
    drawn collapsed, one node per stage, unless ``collapse=False``; ``stage=``
    draws that one stage in full with its neighbours.
    """
    from .collapse import collapsed_view

    graph.freeze()
    if run is not None and run.graph is not graph:
        raise VizError(f"the run given is a run of graph {run.graph.name!r}, not of {graph.name!r}")
    view = check_view(view if view is not None else default_view(run))
    if stage is not None:
        if stage not in graph.stages:
            raise VizError(
                f"graph {graph.name!r} has no stage {stage!r}{closest(stage, graph.stages)}; "
                f"stages: {', '.join(graph.stages) or '(none)'}"
            )
        members = [s.name for s in graph.nodes if s.stage == stage]
        return full_view(graph, run, view, members=members, legend=legend)
    if collapse is None and len(graph) > threshold:
        return collapsed_view(graph, run, view, threshold=threshold)
    if collapse:
        return collapsed_view(graph, run, view)
    return full_view(graph, run, view, legend=legend)


# ---------------------------------------------------------------------- full view


@dataclass
class _Picture:
    """What one drawing needs to know, gathered once."""

    graph: Graph
    run: Run | None
    view: str
    frame: Frame | None
    members: frozenset[str]
    boundary: frozenset[str]
    shapes: dict[str, str]
    saved: frozenset[str]
    released: frozenset[str]
    last_use: dict[str, int]
    steps: dict[str, tuple[int, int | None]]
    grads: bool
    contributions: dict[str, list[tuple[str, int, Any]]] | None
    ids: dict[str, str] = field(default_factory=dict)
    extras: dict[tuple[str, str], str] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    @property
    def forward(self) -> bool:
        return self.view in ("forward", "both")

    @property
    def backward(self) -> bool:
        return self.view in ("backward", "both")


def full_view(
    graph: Graph,
    run: Run | None,
    view: str,
    *,
    members: Iterable[str] | None = None,
    frame: Frame | None = None,
    legend: bool = True,
    note: str | None = None,
) -> graphviz.Digraph:
    """Every node of ``graph`` (or of ``members``, with their neighbours greyed)."""
    picture = _gather(graph, run, check_view(view), members, frame)
    title = f"{graph.name}: {view} view"
    if members is not None and len(picture.members) < len(graph):
        stages = {graph.spec(n).stage for n in picture.members}
        title += f" of stage {', '.join(sorted(str(s) for s in stages))}"
    if frame is not None:
        title += f"\n{frame.phase}" + (
            f": {formula(graph, frame.current)}" if frame.current else ""
        )
    if note:
        title += f"\n{note}"
    lines = picture.lines
    lines.append(f"label=<{html_text(title)}>")
    lines.append("labelloc=t")
    lines.append("rankdir=LR")
    lines.append("newrank=true")
    lines.append('node [fontname="Helvetica" fontsize=10]')
    lines.append('edge [fontname="Helvetica" fontsize=9]')
    _nodes(picture)
    _forward_edges(picture)
    if picture.backward:
        _backward_edges(picture)
    if legend:
        _legend(picture)
    dot = graphviz.Digraph(name=None)
    dot.body.extend(f"\t{line}\n" for line in lines)
    return dot


def _gather(
    graph: Graph,
    run: Run | None,
    view: str,
    members: Iterable[str] | None,
    frame: Frame | None,
) -> _Picture:
    names = graph.names
    member_set = frozenset(names if members is None else members)
    boundary: set[str] = set()
    if members is not None:
        for name in member_set:
            spec = graph.spec(name)
            boundary.update(o for o in spec.operands if isinstance(o, str))
            boundary.update(graph.consumers(name))
        boundary -= member_set
    # only what is drawn is looked up: run.step() scans the schedule
    visible = [n for n in names if n in member_set or n in boundary]
    plan = graph.plan
    if run is None:
        try:
            static = static_shapes(graph)
        except ShapeError:  # draw it anyway: the picture is how one finds the culprit
            static = dict.fromkeys(names)
        shapes = {n: "?" if s is None else format_shape(s) for n, s in static.items()}
        released: frozenset[str] = frozenset()
    else:
        shapes = {n: format_shape(run.shape(n)) for n in visible}
        released = frozenset(run.released())
    last_use = {}
    for number, step in enumerate(plan.forward_steps, start=1):
        for index in step.release:
            last_use[names[index]] = number
    if run is not None:
        steps = {n: run.step(n) for n in visible}
    else:
        steps = {names[s.node]: (k, None) for k, s in enumerate(plan.forward_steps, start=1)}
        steps.update(dict.fromkeys(graph.inputs, (0, None)))
    grads = run is not None and view != "forward" and has_gradients(run)
    contributions = None
    if grads and run is not None and run.keep_values:
        contributions = {n: run.contributions(n) for n in visible}
    picture = _Picture(
        graph,
        run,
        view,
        frame,
        member_set,
        frozenset(boundary),
        shapes,
        frozenset(names[i] for i in plan.saved_values),
        released,
        last_use,
        steps,
        grads,
        contributions,
    )
    taken = set(names)
    for name in names:
        picture.ids[name] = quote_id(name)
    picture.extras = _extra_ids(taken, graph, member_set)
    return picture


def _extra_ids(
    taken: set[str],
    graph: Graph,
    members: Collection[str],
) -> dict[tuple[str, str], str]:
    """Ids for the extra nodes (gradient sums, seeds, legend) that no node name can take."""

    def fresh(base: str) -> str:
        candidate = base
        while candidate in taken:
            candidate += "'"
        taken.add(candidate)
        return quote_id(candidate)

    ids = {}
    for name in graph.names:
        if name in members:
            ids[("sum", name)] = fresh(f"∑ {name}")
    for name in graph.outputs:
        ids[("seed", name)] = fresh(f"seed {name}")
    ids[("legend", "")] = fresh("legend")
    return ids


def _visible(p: _Picture, name: str) -> bool:
    return name in p.members or name in p.boundary


def _nodes(p: _Picture) -> None:
    graph = p.graph
    by_stage: dict[str | None, list[str]] = {}
    for spec in graph.nodes:
        if _visible(p, spec.name):
            key = spec.stage if spec.name in p.members else None
            by_stage.setdefault(key, []).append(spec.name)
    for name in by_stage.pop(None, []):
        p.lines.append(_node_statement(p, graph.spec(name)))
    for number, stage in enumerate(graph.stages, start=1):
        if stage not in by_stage:
            continue
        p.lines.append(f"subgraph cluster_{number} {{")
        p.lines.append(f"\tlabel=<<B>{html_text(stage)}</B>>")
        p.lines.append('\tstyle="rounded" color="#888888" fontname="Helvetica" fontsize=11')
        for name in by_stage[stage]:
            p.lines.append("\t" + _node_statement(p, graph.spec(name)))
            if p.backward and _fan_out(p, name):
                p.lines.append("\t" + _sum_statement(p, name))
        p.lines.append("}")
    for spec in graph.nodes:
        if spec.stage is None and spec.name in p.members and p.backward and _fan_out(p, spec.name):
            p.lines.append(_sum_statement(p, spec.name))
    if p.backward:
        for name in graph.outputs:
            if name in p.members:
                p.lines.append(_seed_statement(p, name))


def _attrs(pairs: Iterable[tuple[str, str]]) -> str:
    return "[" + " ".join(f"{k}={v}" for k, v in pairs) + "]"


def _node_statement(p: _Picture, spec: NodeSpec) -> str:
    name = spec.name
    if name in p.boundary:
        where = html_text(spec.stage) if spec.stage else "no stage"
        label = f'<{html_text(name)}<BR/><FONT POINT-SIZE="8">{where}</FONT>>'
        pairs = [
            ("shape", "box"),
            ("style", '"dashed"'),
            ("color", f'"{PENDING_COLOR}"'),
            ("fontcolor", '"#707070"'),
            ("label", label),
            ("tooltip", esc_string(f"{formula(p.graph, name)} (outside the stage drawn)")),
        ]
        return f"{p.ids[name]} {_attrs(pairs)}"
    rows, tooltip = _rows(p, spec)
    table = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{table}</TABLE>>'
    is_input = spec.op == "input"
    pairs = [("shape", "ellipse" if is_input else "box")]
    styles = [] if is_input else ["rounded"]
    fill = None
    if is_input:
        fill = INPUT_FILL
    if name in p.saved:
        fill = SAVED_FILL
    if name in p.released:
        styles.append("dashed")
    frame = p.frame
    color = None
    if frame is not None:
        if name == frame.current:
            fill = CURRENT_FILL
            pairs.append(("penwidth", "3"))
        elif name not in frame.values:
            color = PENDING_COLOR
    if fill is not None:
        styles.append("filled")
        pairs.append(("fillcolor", f'"{fill}"'))
    if color is not None:
        pairs.append(("color", f'"{color}"'))
        pairs.append(("fontcolor", f'"{color}"'))
    if styles:
        pairs.append(("style", '"' + ",".join(styles) + '"'))
    if name in p.graph.outputs:
        pairs.append(("peripheries", "2"))
    pairs.append(("label", label))
    pairs.append(("tooltip", esc_string(tooltip)))
    return f"{p.ids[name]} {_attrs(pairs)}"


def _rows(p: _Picture, spec: NodeSpec) -> tuple[list[str], str]:
    """The lines drawn in a node, and its tooltip."""
    name = spec.name
    rows = [f"<B>{html_text(name)}</B>"]
    tooltip = [formula(p.graph, name)]
    if spec.op == "input":
        default = spec.params.get("default")
        rows.append("input" + (f" = {default:g}" if default is not None else ""))
    else:
        right = expression(p.graph, name)
        rows.append(html_text(right if len(right) <= 40 else right[:39] + "…"))
    rows.append(html_text(p.shapes[name]))
    tooltip.append(f"shape {p.shapes[name]}")
    forward_step, backward_step = p.steps[name]
    schedule = "given" if forward_step == 0 else f"step {forward_step}"
    if p.backward and backward_step is not None:
        schedule += f" · back {backward_step}"
    rows.append(f'<FONT COLOR="#555555">{html_text(schedule)}</FONT>')
    frame = p.frame
    known = frame is None or name in frame.values
    if name in p.released:
        rows.append(f"<I>released after step {p.last_use[name]}</I>")
    elif name in p.saved:
        rows.append("<I>saved for backward</I>")
    elif name in p.last_use and p.run is None:
        rows.append(f"<I>last used at step {p.last_use[name]}</I>")
    if p.run is not None and p.forward and known and name not in p.released:
        value = p.run.value(name)
        rows.append(html_text(summarize(value, lines=True)))
        tooltip.append("value:\n" + full_text(value))
    if p.grads and p.run is not None and (frame is None or name in frame.grads):
        gradient = p.run.grad(name)
        text = html_text("grad " + summarize(gradient, lines=True))
        rows.append(f'<FONT COLOR="{BACKWARD_COLOR}">{text}</FONT>')
        tooltip.append("gradient:\n" + full_text(gradient))
    return rows, "\n".join(tooltip)


def _uses(p: _Picture, name: str) -> list[tuple[str, int]]:
    uses = []
    for consumer in dict.fromkeys(p.graph.consumers(name)):
        for position, operand in enumerate(p.graph.spec(consumer).operands):
            if operand == name:
                uses.append((consumer, position))
    return uses


def _fan_out(p: _Picture, name: str) -> bool:
    """A node whose gradient is a sum: several uses, or an output that is also used."""
    count = len(_uses(p, name)) + (name in p.graph.outputs)
    return count > 1


def _sum_statement(p: _Picture, name: str) -> str:
    uses = _uses(p, name)
    sources = [f"{c} (operand {k})" for c, k in uses]
    if name in p.graph.outputs:
        sources.append("its seed")
    tooltip = f"gradient of {name} = sum of the gradients from {', '.join(sources)}"
    pairs = [
        ("shape", "circle"),
        ("label", "<+>"),
        ("color", f'"{BACKWARD_COLOR}"'),
        ("fontcolor", f'"{BACKWARD_COLOR}"'),
        ("width", "0.3"),
        ("fixedsize", "true"),
        ("tooltip", esc_string(tooltip)),
    ]
    if p.frame is not None and not p.frame.edges.intersection(uses):
        pairs.append(("style", "invis"))  # nothing to sum yet at this step
    return f"{p.extras['sum', name]} {_attrs(pairs)}"


def _seed_statement(p: _Picture, name: str) -> str:
    pairs = [
        ("shape", "plaintext"),
        ("label", f"<seed ∂{html_text(name)}>"),
        ("fontcolor", f'"{BACKWARD_COLOR}"'),
        ("tooltip", esc_string(f"the gradient backward() starts from at output {name}")),
    ]
    return f"{p.extras['seed', name]} {_attrs(pairs)}"


def _forward_edges(p: _Picture) -> None:
    graph = p.graph
    for spec in graph.nodes:
        for position, operand in enumerate(spec.operands):
            if not isinstance(operand, str):
                continue
            if spec.name not in p.members and operand not in p.members:
                continue
            pairs = [("color", FORWARD_COLOR if p.forward else f'"{PENDING_COLOR}"')]
            if not p.forward:
                pairs.append(("style", "invis"))
            if len(spec.operands) > 1:
                pairs.append(
                    ("tooltip", esc_string(f"{operand} is operand {position} of {spec.name}"))
                )
            p.lines.append(f"{p.ids[operand]} -> {p.ids[spec.name]} {_attrs(pairs)}")


def _edge_gradient(p: _Picture, operand: str, consumer: str, position: int) -> Any | None:
    if not p.grads or p.run is None:
        return None
    if p.frame is not None and (consumer, position) not in p.frame.edges:
        return None
    if p.contributions is not None:
        for c, k, g in p.contributions[operand]:
            if c == consumer and k == position:
                return g
        return None
    if not _fan_out(p, operand):
        return p.run.grad(operand)
    return None


def _red(label: str | None, tooltip: str, *, bold: bool = False, hidden: bool = False) -> str:
    pairs = [
        ("dir", "back"),
        ("color", f'"{BACKWARD_COLOR}"'),
        ("fontcolor", f'"{BACKWARD_COLOR}"'),
    ]
    if hidden:  # kept in the layout, so that the player's pictures do not move
        pairs.append(("style", "invis"))
    if bold:
        pairs.append(("penwidth", "2"))
    if label is not None:
        pairs.append(("label", f"<{html_text(label)}>"))
    pairs.append(("tooltip", esc_string(tooltip)))
    return _attrs(pairs)


def _backward_edges(p: _Picture) -> None:
    """Red edges, drawn from operand to consumer with the arrow reversed so that the
    layout stays the forward one; a fan-out goes through its visible sum."""
    graph = p.graph
    for spec in graph.nodes:
        name = spec.name
        if name not in p.members:
            continue
        uses = _uses(p, name)
        fan = _fan_out(p, name)
        target = p.extras["sum", name] if fan else p.ids[name]
        for consumer, position in uses:
            g = _edge_gradient(p, name, consumer, position)
            label = None if g is None else summarize(g, lines=True)
            tip = f"gradient sent by {consumer} to its operand {position} ({name})"
            if g is not None:
                tip += ":\n" + full_text(g)
            hidden = p.frame is not None and (consumer, position) not in p.frame.edges
            p.lines.append(f"{target} -> {p.ids[consumer]} {_red(label, tip, hidden=hidden)}")
        if name in graph.outputs:
            seed = _seed_value(p, name)
            label = None if seed is None else "seed\n" + summarize(seed, lines=True)
            tip = f"seed of output {name}" + ("" if seed is None else ":\n" + full_text(seed))
            hidden = p.frame is not None and p.frame.phase != "backward"
            p.lines.append(
                f"{target} -> {p.extras['seed', name]} {_red(label, tip, hidden=hidden)}"
            )
        if fan:
            total = None
            if p.grads and p.run is not None and (p.frame is None or name in p.frame.grads):
                total = p.run.grad(name)
            label = None if total is None else "sum\n" + summarize(total, lines=True)
            tip = f"gradient of {name}: the sum of {len(uses) + (name in graph.outputs)} gradients"
            if total is not None:
                tip += ":\n" + full_text(total)
            hidden = p.frame is not None and name not in p.frame.grads
            p.lines.append(
                f"{p.ids[name]} -> {target} {_red(label, tip, bold=True, hidden=hidden)}"
            )


def _seed_value(p: _Picture, name: str) -> Any | None:
    if not p.grads or p.run is None:
        return None
    if p.frame is not None and p.frame.phase == "forward":
        return None
    total = p.run.grad(name)
    if not _uses(p, name):
        return total
    if p.contributions is None:
        return None
    return total - sum(np.asarray(g) for _, _, g in p.contributions[name])


def _legend(p: _Picture) -> None:
    """One plain node holding a table: compact, and it cannot disturb the layout much."""
    red = BACKWARD_COLOR
    rows = [
        ("◯", "input (ellipse)", INPUT_FILL),
        ("▭", "op (box)", None),
        ("◫", "output (double border)", None),
        ("▭", "value saved for backward", SAVED_FILL),
        ("┅", "value released early (dashed)", None),
    ]
    if p.forward:
        rows.append(("→", "forward: value flows", None))
    if p.backward:
        rows.append(
            (
                f'<FONT COLOR="{red}">←</FONT>',
                f'<FONT COLOR="{red}">backward: gradient sent</FONT>',
                None,
            )
        )
        rows.append(
            (
                f'<FONT COLOR="{red}">⊕</FONT>',
                f'<FONT COLOR="{red}">gradients summed (fan-out)</FONT>',
                None,
            )
        )
    cells = "".join(
        f"<TR><TD{f' BGCOLOR={chr(34)}{fill}{chr(34)}' if fill else ''}>{symbol}</TD>"
        f'<TD ALIGN="LEFT">{text}</TD></TR>'
        for symbol, text, fill in rows
    )
    label = (
        '<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" COLOR="#bbbbbb">'
        f'<TR><TD COLSPAN="2"><B>legend</B></TD></TR>{cells}</TABLE>>'
    )
    p.lines.append(f"{p.extras['legend', '']} [shape=plaintext fontsize=9 label={label}]")
