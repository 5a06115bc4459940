"""The steps of a run, for the viewer: when each value, gradient and backward edge
becomes known.

Step 0 is the start (the inputs are given), then one step per forward node in
the scheduler's order, then one per backward node. Rather than a picture per
step, the viewer gets, for every node, the step its value and its gradient
become known and, for every backward edge, the step it carries its gradient:
one layout, and each step only changes what is highlighted, shown or greyed.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(keep_values=True, **bg.library.example("batchnorm"))
>>> _ = run.backward(run.outputs["out"])
>>> t = timeline(run)
>>> [(s.phase, s.node) for s in t.steps][:3], len(t.steps)
([('start', None), ('forward', 'mu'), ('forward', 'xmu')], 21)
>>> t.value_at["x"], t.value_at["mu"], t.grad_at["out"], t.grad_at["x"]
(0, 1, 11, 20)
"""

from __future__ import annotations

from dataclasses import dataclass

from .facts import has_gradients, no_grad
from .labels import formula, operand_text
from .model import DrawnRun
from .rules import rule_text

__all__ = ["Step", "Timeline", "timeline"]


@dataclass(frozen=True)
class Step:
    """One step: its phase (``start``, ``forward``, ``backward``), the node it runs, and
    its caption (for a backward step, the rule sent to each operand)."""

    phase: str
    node: str | None
    caption: str


@dataclass(frozen=True)
class Timeline:
    """The steps, and when each value, gradient and backward edge becomes known (a step
    number; ``None`` for a gradient no seeded output reaches)."""

    steps: tuple[Step, ...]
    value_at: dict[str, int]
    grad_at: dict[str, int | None]
    edge_at: dict[tuple[str, int], int]
    first_backward: int | None
    node_steps: dict[str, tuple[int, int | None]]
    """Each node's (forward step, backward step) as ``run.step`` counts them."""


def _backward_caption(run: DrawnRun, name: str) -> str:
    ir = run.plan.ir
    spec = ir.spec(name)
    blind = no_grad(spec)
    sent = [
        f"{operand} ← {rule_text(ir, name, k)}"
        for k, operand in enumerate(spec.operands)
        if isinstance(operand, str) and k not in blind
    ]
    shape_only = [
        operand_text(o) for k, o in enumerate(spec.operands) if isinstance(o, str) and k in blind
    ]
    text = f"{formula(ir, name)}, g = ∂L/∂{name}: sends " + ("; ".join(sent) or "nothing")
    if shape_only:
        text += f" ({', '.join(shape_only)}: shape only, no gradient)"
    return text


def timeline(run: DrawnRun) -> Timeline:
    """The steps of ``run``: the start, each forward step, then each backward step."""
    plan = run.plan
    ir = plan.ir
    names = ir.names
    value_at = dict.fromkeys(ir.inputs, 0)
    inputs = ir.inputs
    given = ", ".join(inputs[:8]) + (f", … ({len(inputs)} inputs)" if len(inputs) > 8 else "")
    steps = [Step("start", None, f"inputs given: {given}")]
    for step in plan.forward_steps:
        name = names[step.node]
        value_at[name] = len(steps)
        steps.append(Step("forward", name, formula(ir, name)))
    grad_at: dict[str, int | None] = dict.fromkeys(names)
    edge_at: dict[tuple[str, int], int] = {}
    first_backward = None
    node_steps: dict[str, tuple[int, int | None]] = {n: (value_at[n], None) for n in names}
    if has_gradients(run):
        first_backward = len(steps)
        specs = {spec.name: spec for spec in ir.nodes}
        input_set = set(inputs)
        node_steps = {n: run.step(n) for n in names}
        order = sorted((b, n) for n, (_, b) in node_steps.items() if b is not None)
        for _, name in order:
            grad_at[name] = len(steps)
            blind = no_grad(specs[name])
            for k, operand in enumerate(specs[name].operands):
                if isinstance(operand, str) and k not in blind:
                    edge_at[(name, k)] = len(steps)
                    if operand in input_set:  # complete once its last consumer has sent
                        grad_at[operand] = max(grad_at[operand] or 0, len(steps))
            steps.append(Step("backward", name, _backward_caption(run, name)))
    return Timeline(tuple(steps), value_at, grad_at, edge_at, first_backward, node_steps)
