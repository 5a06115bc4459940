"""DOT statements of the full view, each built by a function that returns it.

Node statements (a node, its gradient sum, an output's seed), forward and
backward edge statements, and the legend. They read a ``Facts`` and return DOT
text; ``assemble`` puts them together.

>>> import bngraph as bg
>>> facts = gather(bg.library.get("batchnorm"), None, "backward")
>>> sum_statement(facts, "xmu").startswith('"∑ xmu" [shape=circle label=<+>')
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .escape import esc_string, html_text
from .facts import Facts, gather
from .labels import formula, node_rows, node_tooltip
from .style import (
    BACKWARD_COLOR,
    CURRENT_FILL,
    FORWARD_COLOR,
    INPUT,
    INPUT_FILL,
    INPUT_SHAPE,
    LEGEND_BORDER,
    OP_SHAPE,
    PENDING_COLOR,
    PENDING_TEXT,
    SAVED_FILL,
    attrs,
    quoted,
)
from .summary import brief, full_text, summarize

__all__ = [
    "node_statement",
    "sum_statement",
    "seed_statement",
    "forward_edges",
    "backward_edges",
    "legend_statement",
]


def _boundary_statement(facts: Facts, name: str) -> str:
    stage = facts.graph.spec(name).stage
    where = html_text(stage) if stage else "no stage"
    pairs = [
        ("shape", OP_SHAPE),
        ("style", quoted("dashed")),
        ("color", quoted(PENDING_COLOR)),
        ("fontcolor", quoted(PENDING_TEXT)),
        ("label", f'<{html_text(name)}<BR/><FONT POINT-SIZE="8">{where}</FONT>>'),
        ("tooltip", esc_string(f"{formula(facts.graph, name)} (outside the stage drawn)")),
    ]
    return f"{facts.ids[name]} {attrs(pairs)}"


def node_statement(facts: Facts, name: str) -> str:
    """One node: its shape, fill and style from what it is, its rows and tooltip."""
    if name in facts.boundary:
        return _boundary_statement(facts, name)
    table = "".join(f"<TR><TD>{row}</TD></TR>" for row in node_rows(facts, name))
    label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{table}</TABLE>>'
    is_input = facts.graph.spec(name).op == INPUT
    pairs = [("shape", INPUT_SHAPE if is_input else OP_SHAPE)]
    styles = [] if is_input else ["rounded"]
    fill = INPUT_FILL if is_input else None
    if name in facts.saved:
        fill = SAVED_FILL
    if name in facts.released:
        styles.append("dashed")
    color = None
    frame = facts.frame
    if frame is not None:
        if name == frame.current:
            fill = CURRENT_FILL
            pairs.append(("penwidth", "3"))
        elif name not in frame.values:
            color = PENDING_COLOR
    if fill is not None:
        styles.append("filled")
        pairs.append(("fillcolor", quoted(fill)))
    if color is not None:
        pairs += [("color", quoted(color)), ("fontcolor", quoted(color))]
    if styles:
        pairs.append(("style", quoted(",".join(styles))))
    if name in facts.graph.outputs:
        pairs.append(("peripheries", "2"))
    pairs += [("label", label), ("tooltip", esc_string(node_tooltip(facts, name)))]
    return f"{facts.ids[name]} {attrs(pairs)}"


def sum_statement(facts: Facts, name: str) -> str:
    """The visible ``+`` where the gradients of a value's several uses meet."""
    uses = facts.uses[name]
    sources = [f"{c} (operand {k})" for c, k in uses]
    if name in facts.graph.outputs:
        sources.append("its seed")
    tooltip = f"gradient of {name} = sum of the gradients from {', '.join(sources)}"
    pairs = [
        ("shape", "circle"),
        ("label", "<+>"),
        ("color", quoted(BACKWARD_COLOR)),
        ("fontcolor", quoted(BACKWARD_COLOR)),
        ("width", "0.3"),
        ("fixedsize", "true"),
        ("tooltip", esc_string(tooltip)),
    ]
    if facts.frame is not None and not facts.frame.edges.intersection(uses):
        pairs.append(("style", "invis"))  # nothing to sum yet at this step
    return f"{facts.extras['sum', name]} {attrs(pairs)}"


def seed_statement(facts: Facts, name: str) -> str:
    """The place an output's backward seed comes from."""
    pairs = [
        ("shape", "plaintext"),
        ("label", f"<seed ∂{html_text(name)}>"),
        ("fontcolor", quoted(BACKWARD_COLOR)),
        ("tooltip", esc_string(f"the gradient backward() starts from at output {name}")),
    ]
    return f"{facts.extras['seed', name]} {attrs(pairs)}"


def forward_edges(facts: Facts) -> list[str]:
    """Black operand edges (kept invisible in the backward view, for the layout)."""
    lines = []
    for spec in facts.graph.nodes:
        for position, operand in enumerate(spec.operands):
            if not isinstance(operand, str):
                continue
            if spec.name not in facts.members and operand not in facts.members:
                continue
            pairs = [("color", FORWARD_COLOR if facts.forward else quoted(PENDING_COLOR))]
            if not facts.forward:
                pairs.append(("style", "invis"))
            if len(spec.operands) > 1:
                tip = f"{operand} is operand {position} of {spec.name}"
                pairs.append(("tooltip", esc_string(tip)))
            lines.append(f"{facts.ids[operand]} -> {facts.ids[spec.name]} {attrs(pairs)}")
    return lines


def _edge_gradient(facts: Facts, operand: str, consumer: str, position: int) -> Any | None:
    if not facts.grads or facts.run is None:
        return None
    if facts.frame is not None and (consumer, position) not in facts.frame.edges:
        return None
    if facts.contributions is not None:
        for c, k, g in facts.contributions[operand]:
            if c == consumer and k == position:
                return g
        return None
    if operand not in facts.fan_out:
        return facts.run.grad(operand)
    return None


def _red(label: str | None, tooltip: str, *, bold: bool = False, hidden: bool = False) -> str:
    pairs = [
        ("dir", "back"),
        ("color", quoted(BACKWARD_COLOR)),
        ("fontcolor", quoted(BACKWARD_COLOR)),
    ]
    if hidden:  # kept in the layout, so that the pictures of successive steps do not move
        pairs.append(("style", "invis"))
    if bold:
        pairs.append(("penwidth", "2"))
    if label is not None:
        pairs.append(("label", f"<{html_text(label)}>"))
    pairs.append(("tooltip", esc_string(tooltip)))
    return attrs(pairs)


def _use_edges(facts: Facts, name: str, target: str) -> list[str]:
    lines = []
    for consumer, position in facts.uses[name]:
        g = _edge_gradient(facts, name, consumer, position)
        label = None if g is None else brief(g)
        tip = f"gradient sent by {consumer} to its operand {position} ({name})"
        if g is not None:
            tip += f": {summarize(g)}\n{full_text(g)}"
        hidden = facts.frame is not None and (consumer, position) not in facts.frame.edges
        lines.append(f"{target} -> {facts.ids[consumer]} {_red(label, tip, hidden=hidden)}")
    return lines


def _seed_edge(facts: Facts, name: str, target: str) -> str:
    seed = _seed_value(facts, name)
    label = None if seed is None else "seed " + brief(seed)
    tip = f"seed of output {name}"
    if seed is not None:
        tip += f": {summarize(seed)}\n{full_text(seed)}"
    hidden = facts.frame is not None and facts.frame.phase != "backward"
    return f"{target} -> {facts.extras['seed', name]} {_red(label, tip, hidden=hidden)}"


def _sum_edge(facts: Facts, name: str, target: str) -> str:
    total = None
    known = facts.frame is None or name in facts.frame.grads
    if facts.grads and facts.run is not None and known:
        total = facts.run.grad(name)
    label = None if total is None else "sum " + brief(total)
    count = len(facts.uses[name]) + (name in facts.graph.outputs)
    tip = f"gradient of {name}: the sum of {count} gradients"
    if total is not None:
        tip += f": {summarize(total)}\n{full_text(total)}"
    hidden = facts.frame is not None and name not in facts.frame.grads
    return f"{facts.ids[name]} -> {target} {_red(label, tip, bold=True, hidden=hidden)}"


def backward_edges(facts: Facts) -> list[str]:
    """Red edges, drawn from operand to consumer with the arrow reversed so that the
    layout stays the forward one; a fan-out goes through its visible sum."""
    lines = []
    for spec in facts.graph.nodes:
        name = spec.name
        if name not in facts.members:
            continue
        fan = name in facts.fan_out
        target = facts.extras["sum", name] if fan else facts.ids[name]
        lines += _use_edges(facts, name, target)
        if name in facts.graph.outputs:
            lines.append(_seed_edge(facts, name, target))
        if fan:
            lines.append(_sum_edge(facts, name, target))
    return lines


def _seed_value(facts: Facts, name: str) -> Any | None:
    if not facts.grads or facts.run is None:
        return None
    if facts.frame is not None and facts.frame.phase == "forward":
        return None
    total = facts.run.grad(name)
    if not facts.uses[name]:
        return total
    if facts.contributions is None:
        return None
    return total - sum(np.asarray(g) for _, _, g in facts.contributions[name])


def legend_statement(facts: Facts) -> str:
    """One plain node holding a table: compact, and it cannot disturb the layout much."""
    red = BACKWARD_COLOR
    rows: list[tuple[str, str, str | None]] = [
        ("◯", "input (ellipse)", INPUT_FILL),
        ("▭", "op (box)", None),
        ("◫", "output (double border)", None),
        ("▭", "value saved for backward", SAVED_FILL),
        ("┅", "value released early (dashed)", None),
    ]
    if facts.forward:
        rows.append(("→", "forward: value flows", None))
    if facts.backward:
        rows.append((f'<FONT COLOR="{red}">←</FONT>',
                     f'<FONT COLOR="{red}">backward: gradient sent</FONT>', None))
        rows.append((f'<FONT COLOR="{red}">⊕</FONT>',
                     f'<FONT COLOR="{red}">gradients summed (fan-out)</FONT>', None))
    cells = "".join(
        f"<TR><TD{f' BGCOLOR={quoted(fill)}' if fill else ''}>{symbol}</TD>"
        f'<TD ALIGN="LEFT">{text}</TD></TR>'
        for symbol, text, fill in rows
    )
    label = (
        f'<<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="2" COLOR="{LEGEND_BORDER}">'
        f'<TR><TD COLSPAN="2"><B>legend</B></TD></TR>{cells}</TABLE>>'
    )
    return f"{facts.extras['legend', '']} [shape=plaintext fontsize=9 label={label}]"
