"""The text of drawings: formulas, the rows drawn in a node, and tooltips.

Everything here returns text (HTML-like label markup already escaped, or plain
tooltip text to be quoted by the caller); nothing here decides colours or shapes.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> formula(g, "ivar"), formula(g, "mu"), formula(g, "sq"), formula(g, "x")
('ivar = 1 ÷ sqrtvar', 'mu = mean(x, axis=0)', 'sq = xmu^2', 'x: input [N, D]')
"""

from __future__ import annotations

import re
from typing import Any

from ..ops import get_op
from .escape import html_text
from .facts import Facts
from .model import DrawnGraph
from .style import BACKWARD_COLOR, INPUT, STEP_TEXT
from .summary import full_text, summarize

__all__ = ["formula", "expression", "node_rows", "node_tooltip", "cut"]


def formula(graph: DrawnGraph, name: str) -> str:
    """The node as an equation: ``xmu = x − mu``, ``mu = mean(x, axis=0)``."""
    spec = graph.spec(name)
    if spec.op == INPUT:
        shape = spec.params.get("shape")
        text = f"{name}: input"
        if shape is not None:
            text += " [" + ", ".join(map(str, shape)) + "]"
        if spec.params.get("default") is not None:
            text += f" = {spec.params['default']:g}"
        return text
    return f"{name} = {expression(graph, name)}"


def expression(graph: DrawnGraph, name: str) -> str:
    """The right-hand side of an op node's formula: ``x − mu``, ``√add_1``.

    >>> import bngraph as bg
    >>> expression(bg.library.get("batchnorm"), "sqrtvar")
    '√add_1'
    """
    spec = graph.spec(name)
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


def _schedule(facts: Facts, name: str) -> str:
    forward_step, backward_step = facts.steps[name]
    text = "given" if forward_step == 0 else f"step {forward_step}"
    if facts.backward and backward_step is not None:
        text += f" · back {backward_step}"
    return text


def _lifetime(facts: Facts, name: str) -> str | None:
    if name in facts.released:
        return f"released after step {facts.last_use[name]}"
    if name in facts.saved:
        return "saved for backward"
    if name in facts.last_use and facts.run is None:
        return f"last used at step {facts.last_use[name]}"
    return None


def _value_known(facts: Facts, name: str) -> bool:
    frame = facts.frame
    known = frame is None or name in frame.values
    return facts.run is not None and facts.forward and known and name not in facts.released


def _gradient_known(facts: Facts, name: str) -> bool:
    frame = facts.frame
    return facts.grads and facts.run is not None and (frame is None or name in frame.grads)


def node_rows(facts: Facts, name: str) -> list[str]:
    """The lines drawn in a node (HTML-like markup): name, formula, shape, steps,
    lifetime, value and gradient summaries."""
    spec = facts.graph.spec(name)
    rows = [f"<B>{html_text(name)}</B>"]
    if spec.op == INPUT:
        default = spec.params.get("default")
        rows.append("input" + (f" = {default:g}" if default is not None else ""))
    else:
        rows.append(html_text(cut(expression(facts.graph, name), 40)))
    rows.append(html_text(facts.shapes[name]))
    rows.append(f'<FONT COLOR="{STEP_TEXT}">{html_text(_schedule(facts, name))}</FONT>')
    lifetime = _lifetime(facts, name)
    if lifetime is not None:
        rows.append(f"<I>{lifetime}</I>")
    if _value_known(facts, name):
        rows.append(html_text(summarize(facts.run.value(name), lines=True)))  # type: ignore[union-attr]
    if _gradient_known(facts, name):
        text = html_text("grad " + summarize(facts.run.grad(name), lines=True))  # type: ignore[union-attr]
        rows.append(f'<FONT COLOR="{BACKWARD_COLOR}">{text}</FONT>')
    return rows


def node_tooltip(facts: Facts, name: str) -> str:
    """A node's tooltip: its formula, shape, and full value and gradient (bounded)."""
    lines = [formula(facts.graph, name), f"shape {facts.shapes[name]}"]
    if _value_known(facts, name):
        lines.append("value:\n" + full_text(facts.run.value(name)))  # type: ignore[union-attr]
    if _gradient_known(facts, name):
        lines.append("gradient:\n" + full_text(facts.run.grad(name)))  # type: ignore[union-attr]
    return "\n".join(lines)
