"""DOT statements of the full view's edges, each list built by a function that returns it.

Forward edges are black; an operand an op reads only for its shape (or as
indices) gets a dotted grey edge and never a gradient, as does a constant in a
backward view. Backward edges are red,
drawn from operand to consumer with the arrow reversed so that the layout stays
the forward one; a value with several uses gets its gradients summed in a
visible ``+``. With
``rules``, each backward edge is labelled with the local rule that produced it.

>>> import bngraph as bg
>>> from bngraph.viz.facts import gather
>>> facts = gather(bg.library.get("groupnorm").plan, None, "backward")
>>> print(next(e for e in forward_edges(facts) if '"x" -> "xhat"' in e))  # doctest: +ELLIPSIS
"x" -> "xhat" [color="#707070" style=dotted tooltip="x is operand 1 of xhat, ... no gradient"]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..ir import INPUT
from .escape import esc_string, html_text
from .facts import Facts, is_constant
from .rules import rule_text
from .statements import tag
from .style import BACKWARD_COLOR, FORWARD_COLOR, PENDING_COLOR, SHAPE_EDGE_COLOR, attrs, quoted
from .summary import brief, full_text, summarize

__all__ = ["forward_edges", "backward_edges", "edge_gradient", "CHAIN_WEIGHT"]

CHAIN_WEIGHT = 4
"""How strongly an edge between two ops is kept short and straight, against 1 for an
input's edge: without it, each input pushes the chain aside and the picture drifts
diagonally, twice as wide."""


def _forward_edge(facts: Facts, operand: str, consumer: str, position: int, count: int) -> str:
    shape_only = (consumer, position) in facts.shape_uses[operand]
    if shape_only:
        pairs = [("color", quoted(SHAPE_EDGE_COLOR)), ("style", "dotted")]
        tip = (
            f"{operand} is operand {position} of {consumer}, read only for its shape or as "
            "indices: it gets no gradient"
        )
    elif not facts.forward and is_constant(facts, operand):
        pairs = [("color", quoted(SHAPE_EDGE_COLOR)), ("style", "dotted")]
        tip = f"{operand} is operand {position} of {consumer}, a constant: it gets no gradient"
    else:
        pairs = [("color", FORWARD_COLOR if facts.forward else quoted(PENDING_COLOR))]
        if not facts.forward:
            pairs.append(("style", "invis"))  # kept: the layout is the forward one
        tip = f"{operand} is operand {position} of {consumer}" if count > 1 else ""
    if tip:
        pairs.append(("tooltip", esc_string(tip)))
    if facts.specs[operand].op != INPUT:  # the chain of ops runs straight; inputs hang aside
        pairs.append(("weight", str(CHAIN_WEIGHT)))
    pairs += tag(facts, f"f{facts.index[consumer]}_{position}")
    return f"{facts.ids[operand]} -> {facts.ids[consumer]} {attrs(pairs)}"


def forward_edges(facts: Facts) -> list[str]:
    """An edge per operand of every node drawn (literal numbers have none)."""
    lines = []
    for spec in facts.specs.values():
        for position, operand in enumerate(spec.operands):
            if not isinstance(operand, str):
                continue
            if spec.name not in facts.members and operand not in facts.members:
                continue
            lines.append(_forward_edge(facts, operand, spec.name, position, len(spec.operands)))
    return lines


def edge_gradient(facts: Facts, operand: str, consumer: str, position: int) -> Any | None:
    """The gradient ``consumer`` sent to ``operand`` along ``position``, when the run
    knows it (every edge of a run with kept values; the one edge of a single use)."""
    if not facts.grads or facts.run is None:
        return None
    if facts.contributions is not None:
        for c, k, g in facts.contributions[operand]:
            if c == consumer and k == position:
                return g
        return None
    if operand not in facts.fan_out:
        return facts.run.grad(operand)
    return None


def _red(
    facts: Facts, label: str | None, tooltip: str, *, bold: bool = False
) -> list[tuple[str, str]]:
    pairs = [
        ("dir", "back"),
        ("color", quoted(BACKWARD_COLOR)),
        ("fontcolor", quoted(BACKWARD_COLOR)),
    ]
    if bold:
        pairs.append(("penwidth", "2"))
    if label is not None and facts.edge_labels:
        pairs.append(("label", f"<{html_text(label)}>"))
    pairs.append(("tooltip", esc_string(tooltip)))
    return pairs


def _use_edge(facts: Facts, name: str, target: str, consumer: str, position: int) -> str:
    g = edge_gradient(facts, name, consumer, position)
    rows = [rule_text(facts.ir, consumer, position)] if facts.rules else []
    tip = f"gradient sent by {consumer} to its operand {position} ({name})"
    if facts.rules:
        tip += f" by the rule {rows[0]}"
    if g is not None:
        rows.append(brief(g, mean=False))
        tip += f": {summarize(g)}\n{full_text(g)}"
    pairs = _red(facts, "\n".join(rows) if rows else None, tip)
    pairs += tag(facts, f"b{facts.index[consumer]}_{position}")
    return f"{target} -> {facts.ids[consumer]} {attrs(pairs)}"


def _seed_value(facts: Facts, name: str) -> Any | None:
    if not facts.grads or facts.run is None:
        return None
    total = facts.run.grad(name)
    if not facts.grad_uses[name]:
        return total
    if facts.contributions is None:
        return None
    return total - sum(np.asarray(g) for _, _, g in facts.contributions[name])


def _seed_edge(facts: Facts, name: str, target: str) -> str:
    seed = _seed_value(facts, name)
    label = None if seed is None else "seed " + brief(seed, mean=False)
    tip = f"seed of output {name}"
    if seed is not None:
        tip += f": {summarize(seed)}\n{full_text(seed)}"
    pairs = _red(facts, label, tip) + tag(facts, f"e{facts.ir.outputs.index(name)}")
    return f"{target} -> {facts.extras['seed', name]} {attrs(pairs)}"


def _sum_edge(facts: Facts, name: str, target: str) -> str:
    total = facts.run.grad(name) if facts.grads and facts.run is not None else None
    label = None if total is None else "sum " + brief(total, mean=False)
    count = len(facts.grad_uses[name]) + (name in facts.ir.outputs)
    tip = f"gradient of {name}: the sum of {count} gradients"
    if total is not None:
        tip += f": {summarize(total)}\n{full_text(total)}"
    pairs = _red(facts, label, tip, bold=True) + tag(facts, f"t{facts.index[name]}")
    return f"{facts.ids[name]} -> {target} {attrs(pairs)}"


def backward_edges(facts: Facts) -> list[str]:
    """Red edges for every use that sends a gradient; a fan-out goes through its sum."""
    lines = []
    for spec in facts.specs.values():
        name = spec.name
        if name not in facts.members:
            continue
        fan = name in facts.fan_out
        target = facts.extras["sum", name] if fan else facts.ids[name]
        lines += [_use_edge(facts, name, target, c, k) for c, k in facts.grad_uses[name]]
        if name in facts.ir.outputs:
            lines.append(_seed_edge(facts, name, target))
        if fan:
            lines.append(_sum_edge(facts, name, target))
    return lines
