"""The chain rule on the edges: each op's local rule for one operand, as text with
the operand names filled in.

An op record carries one text template per operand (``rules``): ``{0}``, ``{1}``
... stand for the operands, ``{out}`` for the node itself and ``{axis}`` (any
parameter's name) for the op's parameters; ``g`` is the gradient arriving at the
node. For ``xhat = xmu × ivar`` the mul rules ``("g × {1}", "g × {0}")`` read
``g × ivar`` on the edge to ``xmu``. An op without rules shows ``vjp``.
Templates are filled by plain substitution: nothing in them is evaluated.

>>> fill("g × {1}", ["xmu", "ivar"], "xhat", {})
'g × ivar'
>>> fill("g / (2 · {out})", ["add_1"], "sqrtvar", {})
'g / (2 · sqrtvar)'
>>> fill("sum(g, {axis})", ["x"], "y", {"axis": (0, 2)})
'sum(g, (0, 2))'
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..ops import get_op
from .labels import operand_text, param_text
from .model import DrawnGraph

__all__ = ["UNKNOWN_RULE", "fill", "rule_text", "rules_of"]

UNKNOWN_RULE = "vjp"
"""What an edge shows for an op that states no rules."""

_FIELD = re.compile(r"\{(\w+)\}")


def fill(template: str, operands: Sequence[str], out: str, params: Mapping[str, Any]) -> str:
    """``template`` with ``{k}`` the k-th operand, ``{out}`` the node and ``{name}`` a
    parameter; a field that names nothing is left as written."""

    def value(match: re.Match[str]) -> str:
        key = match.group(1)
        if key.isdigit() and int(key) < len(operands):
            return operands[int(key)]
        if key == "out":
            return out
        if key in params:
            return param_text(params[key])
        return match.group(0)

    return _FIELD.sub(value, template)


def rules_of(op_name: str) -> tuple[str | None, ...]:
    """The op record's rule templates, one per operand (empty when it states none)."""
    return tuple(getattr(get_op(op_name), "rules", None) or ())


def rule_text(graph: DrawnGraph, consumer: str, position: int) -> str:
    """The rule by which ``consumer`` sends a gradient to its operand ``position``,
    with the operand names filled in (``vjp`` when the op states none).

    >>> import bngraph as bg
    >>> g = bg.library.get("batchnorm")
    >>> rule_text(g, "xhat", 0), rule_text(g, "xhat", 1)
    ('g × ivar', 'g × xmu')
    """
    spec = graph.spec(consumer)
    op = get_op(spec.op)
    templates = rules_of(spec.op)
    if position >= len(templates) or not templates[position]:
        return UNKNOWN_RULE
    operands = [operand_text(o) for o in spec.operands]
    return fill(str(templates[position]), operands, consumer, op.full_params(spec.params))
