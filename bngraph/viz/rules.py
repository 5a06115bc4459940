"""The chain rule on the edges: each op's local rule for one operand, as text with
the operand names filled in.

An op record carries one text per operand (``rules``): ``{0}``, ``{1}`` ... stand
for the operands, ``{out}`` for the node itself and ``{axis}`` (any parameter's
name) for the op's parameters; ``g`` is the gradient arriving at the node. For
``xhat = xmu × ivar`` the mul rules ``("g × {1}", "g × {0}")`` read ``g × ivar``
on the edge to ``xmu``. An op without rules shows ``vjp``.

>>> import bngraph as bg
>>> ir = bg.library.get("batchnorm").ir
>>> rule_text(ir, "xhat", 0), rule_text(ir, "xhat", 1), rule_text(ir, "sqrtvar", 0)
('g × ivar', 'g × xmu', 'g ÷ (2·sqrtvar)')
"""

from __future__ import annotations

from ..ir import IR
from ..ops import get_op
from .labels import operand_text

__all__ = ["rule_text"]


def rule_text(ir: IR, consumer: str, position: int) -> str:
    """The rule by which ``consumer`` sends a gradient to its operand ``position``,
    with the operand names filled in (``vjp`` when the op states none)."""
    spec = ir.spec(consumer)
    operands = [operand_text(o) for o in spec.operands]
    return get_op(spec.op).rule(position, operands, consumer, spec.params)
