"""DOT statements of the full view's nodes, each built by a function that returns it:
a node, the ``+`` where a value's gradients meet, an output's seed; and the legend.

They read a ``Facts`` and return DOT text; ``edges`` builds the edges and
``assemble`` puts everything together.

>>> import bngraph as bg
>>> from bngraph.viz.facts import gather
>>> facts = gather(bg.library.get("batchnorm").plan, None, "backward")
>>> sum_statement(facts, "xmu").startswith('"∑ xmu" [shape=circle label=<+>')
True
"""

from __future__ import annotations

from ..ir import INPUT
from .escape import esc_string, html_text
from .facts import Facts, is_constant
from .labels import formula, node_rows, node_tooltip
from .style import (
    BACKWARD_COLOR,
    CHECK_COLORS,
    CHECK_MARKS,
    DIFFER_FILL,
    INPUT_FILL,
    INPUT_SHAPE,
    LEGEND_BORDER,
    OP_SHAPE,
    PENDING_COLOR,
    PENDING_TEXT,
    SAVED_FILL,
    SHAPE_EDGE_COLOR,
    attrs,
    quoted,
)

__all__ = ["node_statement", "sum_statement", "seed_statement", "legend_table", "tag"]


def tag(facts: Facts, element: str) -> list[tuple[str, str]]:
    """The ``id`` attribute the viewer reads (``n3`` node 3, ``m3`` node 3 drawn greyed
    outside the stage drawn, ``s3`` its sum, ``o0`` the first output's seed ...), when
    the drawing is for the viewer."""
    return [("id", quoted(element))] if facts.tagged else []


def _boundary_statement(facts: Facts, name: str) -> str:
    stage = facts.specs[name].stage
    where = html_text(stage) if stage else "no stage"
    pairs = [
        ("shape", OP_SHAPE),
        ("style", quoted("dashed")),
        ("color", quoted(PENDING_COLOR)),
        ("fontcolor", quoted(PENDING_TEXT)),
        ("label", f'<{html_text(name)}<BR/><FONT POINT-SIZE="9">{where}</FONT>>'),
        ("tooltip", esc_string(f"{formula(facts.ir, name)} (outside the stage drawn)")),
        *tag(facts, f"m{facts.index[name]}"),
    ]
    return f"{facts.ids[name]} {attrs(pairs)}"


def _look(facts: Facts, name: str) -> list[tuple[str, str]]:
    """Shape, fill, border and outline of a node: what it is (input, op, output),
    whether its value is saved or released, and a check's verdict (where two graphs
    first part is filled, with a heavier border)."""
    is_input = facts.specs[name].op == INPUT
    status = facts.checks[name].status if facts.checks and name in facts.checks else None
    pairs = [("shape", INPUT_SHAPE if is_input else OP_SHAPE)]
    if is_input:  # an ellipse already leaves room around its text
        pairs.append(("margin", quoted("0.02,0.02")))
    styles = [] if is_input else ["rounded"]
    fill = (
        DIFFER_FILL if status == "first"
        else SAVED_FILL if name in facts.saved
        else INPUT_FILL if is_input
        else None
    )
    if name in facts.released:
        styles.append("dashed")
    if fill is not None:
        styles.append("filled")
        pairs.append(("fillcolor", quoted(fill)))
    if styles:
        pairs.append(("style", quoted(",".join(styles))))
    if name in facts.ir.outputs:
        pairs.append(("peripheries", "2"))
    if status is not None:
        pairs.append(("color", quoted(CHECK_COLORS[status])))
        pairs.append(("penwidth", "4" if status == "first" else "2.5"))
    return pairs


def node_statement(facts: Facts, name: str) -> str:
    """One node: its look, its rows and its tooltip."""
    if name in facts.boundary:
        return _boundary_statement(facts, name)
    table = "".join(f"<TR><TD>{row}</TD></TR>" for row in node_rows(facts, name))
    label = f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="2">{table}</TABLE>>'
    pairs = [
        *_look(facts, name),
        ("label", label),
        ("tooltip", esc_string(node_tooltip(facts, name))),
        *tag(facts, f"n{facts.index[name]}"),
    ]
    return f"{facts.ids[name]} {attrs(pairs)}"


def sum_statement(facts: Facts, name: str) -> str:
    """The visible ``+`` where the gradients of a value's several uses meet."""
    sources = [f"{c} (operand {k})" for c, k in facts.grad_uses[name]]
    if name in facts.ir.outputs:
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
        *tag(facts, f"s{facts.index[name]}"),
    ]
    return f"{facts.extras['sum', name]} {attrs(pairs)}"


def seed_statement(facts: Facts, name: str) -> str:
    """The place an output's backward seed comes from."""
    pairs = [
        ("shape", "plaintext"),
        ("label", f"<seed ∂{html_text(name)}>"),
        ("fontcolor", quoted(BACKWARD_COLOR)),
        ("tooltip", esc_string(f"the gradient backward() starts from at output {name}")),
        *tag(facts, f"o{facts.ir.outputs.index(name)}"),
    ]
    return f"{facts.extras['seed', name]} {attrs(pairs)}"


def _red(text: str) -> str:
    return f'<FONT COLOR="{BACKWARD_COLOR}">{text}</FONT>'


def _legend_rows(facts: Facts) -> list[tuple[str, str, str | None]]:
    rows: list[tuple[str, str, str | None]] = [
        ("◯", "input (ellipse)", INPUT_FILL),
        ("▭", "op (box)", None),
        ("◫", "output (double border)", None),
        ("▭", "value saved for backward", SAVED_FILL),
        ("┅", "value released early (dashed)", None),
    ]
    if facts.forward:
        rows.append(("→", "forward: value flows", None))
    constants = not facts.forward and any(
        isinstance(o, str) and is_constant(facts, o)
        for spec in facts.specs.values() for o in spec.operands
    )
    if constants or any(facts.shape_uses.values()):
        rows.append((f'<FONT COLOR="{SHAPE_EDGE_COLOR}">⋯</FONT>',
                     "shape, index or constant operand: no gradient", None))
    if facts.backward:
        rule = ": its local rule, g the gradient arriving" if facts.rules else ""
        rows.append((_red("←"), _red(f"backward: gradient sent{rule}"), None))
        rows.append((_red("⊕"), _red("gradients summed (fan-out)"), None))
    if facts.checks:
        rows += [
            (f'<FONT COLOR="{CHECK_COLORS[status]}">{CHECK_MARKS[status].strip() or "▭"}</FONT>',
             text, DIFFER_FILL if status == "first" else None)
            for status, text in facts.check_legend
        ]
    return rows


def legend_table(facts: Facts, columns: int = 3) -> str:
    """The legend as an HTML-like table of ``columns`` entries a row, for the graph's
    label under its title: it takes height, not width, and never moves a node."""
    entries = [
        f"<TD{f' BGCOLOR={quoted(fill)}' if fill else ''}>{symbol}</TD>"
        f'<TD ALIGN="LEFT">{text}</TD>'
        for symbol, text, fill in _legend_rows(facts)
    ]
    rows = [entries[k : k + columns] for k in range(0, len(entries), columns)]
    cells = "".join(f"<TR>{''.join(row)}</TR>" for row in rows)
    return (
        f'<TABLE BORDER="1" CELLBORDER="0" CELLSPACING="1" COLOR="{LEGEND_BORDER}">'
        f'<TR><TD COLSPAN="{2 * columns}"><B>legend</B></TD></TR>{cells}</TABLE>'
    )
