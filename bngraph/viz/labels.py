"""The text of drawings: formulas, the rows drawn in a node, and tooltips.

Everything here returns text (HTML-like label markup already escaped, or plain
tooltip text to be quoted by the caller); nothing here decides colours or shapes.

>>> import bngraph as bg
>>> ir = bg.library.get("batchnorm").ir
>>> formula(ir, "ivar"), formula(ir, "mu"), formula(ir, "sq"), formula(ir, "x")
('ivar = 1 ÷ sqrtvar', 'mu = mean(x, axis=0)', 'sq = xmu^2', 'x: input [N, D]')
"""

from __future__ import annotations

import re
from typing import Any

from ..ir import INPUT, IR
from ..ops import get_op
from .escape import html_text
from .facts import Facts
from .style import BACKWARD_COLOR, CHECK_MARKS, STEP_TEXT
from .summary import brief, full_text, summarize

__all__ = [
    "formula",
    "expression",
    "headline",
    "node_rows",
    "node_tooltip",
    "schedule_text",
    "lifetime_text",
    "value_known",
    "gradient_known",
    "cut",
]


def formula(ir: IR, name: str) -> str:
    """The node as an equation: ``xmu = x − mu``, ``mu = mean(x, axis=0)``."""
    spec = ir.spec(name)
    if spec.op == INPUT:
        shape = spec.params.get("shape")
        text = f"{name}: input"
        if shape is not None:
            text += " [" + ", ".join(map(str, shape)) + "]"
        if spec.params.get("default") is not None:
            text += f" = {spec.params['default']:g}"
        return text
    return f"{name} = {expression(ir, name)}"


def expression(ir: IR, name: str) -> str:
    """The right-hand side of an op node's formula: ``x − mu``, ``√add_1``.

    >>> import bngraph as bg
    >>> expression(bg.library.get("batchnorm").ir, "sqrtvar")
    '√add_1'
    """
    spec = ir.spec(name)
    operands = [operand_text(o) for o in spec.operands]
    symbol = get_op(spec.op).display(spec.params)
    if len(operands) == 2 and len(symbol) == 1 and not symbol.isalnum():
        return f"{operands[0]} {symbol} {operands[1]}"
    if len(operands) == 1 and _PLACEHOLDER.search(symbol):
        return _PLACEHOLDER.sub(lambda _: operands[0], symbol)
    params = [f"{k}={param_text(v)}" for k, v in spec.params.items()]
    return f"{spec.op}({', '.join([*operands, *params])})"


_PLACEHOLDER = re.compile(r"(?<![A-Za-z_])x(?![A-Za-z_0-9])")
"""The operand in an op's label: the ``x`` of ``√x`` or ``x^2``, not the one in ``axis``."""


def operand_text(operand: str | float) -> str:
    """An operand as written: its node name, or the literal number."""
    return operand if isinstance(operand, str) else f"{operand:g}"


def param_text(value: Any) -> str:
    """An op parameter as written in a formula: ``(0, 2)``, ``(1,)``, ``True``."""
    if isinstance(value, tuple):
        return "(" + ", ".join(map(str, value)) + ("," if len(value) == 1 else "") + ")"
    return str(value)


def cut(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters with an ellipsis.

    >>> cut("abcdef", 4)
    'abc…'
    """
    return text if len(text) <= limit else text[: limit - 1] + "…"


FORMULA_CHARS = 30
"""Longer right-hand sides are cut in the node (the tooltip has them whole)."""


def schedule_text(facts: Facts, name: str) -> str:
    """``given``, ``step 3``, or ``step 3 · back 9`` in views that show the backward pass."""
    forward_step, backward_step = facts.steps[name]
    text = "given" if forward_step == 0 else f"step {forward_step}"
    if facts.backward and backward_step is not None:
        text += f" · back {backward_step}"
    return text


def lifetime_text(facts: Facts, name: str) -> str | None:
    """What happens to the node's value: saved for backward, released after a step."""
    if name in facts.released:
        return f"released after step {facts.last_use[name]}"
    if name in facts.saved:
        return "saved for backward"
    if name in facts.last_use and facts.run is None:
        return f"last used at step {facts.last_use[name]}"
    return None


def value_known(facts: Facts, name: str) -> bool:
    """Whether the drawing shows ``name``'s value (a run, the forward view, not released)."""
    return facts.run is not None and facts.forward and name not in facts.released


def gradient_known(facts: Facts, name: str) -> bool:
    """Whether the drawing shows ``name``'s gradient (constants get none)."""
    constant = facts.plan.constant
    return facts.grads and facts.run is not None and not (
        constant and constant[facts.index[name]]
    )


def headline(ir: IR, name: str) -> str:
    """The first row of a node: its name in bold and what it computes, cut short.

    >>> import bngraph as bg
    >>> headline(bg.library.get("batchnorm").ir, "xmu")  # a no-break space after the name
    '<B>xmu</B>\xa0= x − mu'
    """
    spec = ir.spec(name)
    if spec.op == INPUT:
        default = spec.params.get("default")
        right = "input" + (f" = {default:g}" if default is not None else "")
        return f"<B>{html_text(name)}</B>:\u00a0{right}"
    right = html_text(cut(expression(ir, name), FORMULA_CHARS))
    return f"<B>{html_text(name)}</B>\u00a0= {right}"


def node_rows(facts: Facts, name: str) -> list[str]:
    """The lines drawn in a node (HTML-like markup): what it computes; its shape and
    steps; with a run, one line for its value and one for its gradient."""
    mark = CHECK_MARKS[facts.checks[name].status] if facts.checks and name in facts.checks else ""
    rows = [
        mark + headline(facts.ir, name),
        f'<FONT COLOR="{STEP_TEXT}">{html_text(facts.shapes[name])} · '
        f"{html_text(schedule_text(facts, name))}</FONT>",
    ]
    if facts.run is not None and facts.forward and name in facts.released:
        rows.append(f'<FONT COLOR="{STEP_TEXT}"><I>released</I></FONT>')
    if value_known(facts, name):
        rows.append(html_text(brief(facts.run.value(name))))  # type: ignore[union-attr]
    if gradient_known(facts, name):
        text = html_text("grad " + brief(facts.run.grad(name)))  # type: ignore[union-attr]
        rows.append(f'<FONT COLOR="{BACKWARD_COLOR}">{text}</FONT>')
    return rows


def node_tooltip(facts: Facts, name: str) -> str:
    """A node's tooltip: its formula, shape, steps, lifetime, and full value and
    gradient (bounded)."""
    lines = [formula(facts.ir, name), f"shape {facts.shapes[name]}, {schedule_text(facts, name)}"]
    lifetime = lifetime_text(facts, name)
    if lifetime is not None:
        lines.append(lifetime)
    if facts.checks and name in facts.checks:
        lines += facts.checks[name].lines
    if value_known(facts, name):
        value = facts.run.value(name)  # type: ignore[union-attr]
        lines.append(f"value {summarize(value)}:\n{full_text(value)}")
    if gradient_known(facts, name):
        gradient = facts.run.grad(name)  # type: ignore[union-attr]
        lines.append(f"gradient {summarize(gradient)}:\n{full_text(gradient)}")
    return "\n".join(lines)
