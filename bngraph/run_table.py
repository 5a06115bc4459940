"""The stage table of a run: per stage, each node with its shape, value and gradient.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(**bg.library.example("batchnorm"), keep_values=True)
>>> _ = run.backward(run.outputs["out"])
>>> print(stage_table(run).splitlines()[0])
inputs
"""

from __future__ import annotations

from .errors import RunStateError
from .formatting import format_array
from .ops import format_shape
from .run import Run

__all__ = ["stage_table"]


def stage_table(run: Run) -> str:
    """Every node of the run, grouped by stage in schedule order: name, op, shape,
    value and gradient (the gradient once ``run.backward`` has been called)."""
    plan = run.plan
    ir = plan.ir
    lines: list[str] = []
    current: object = object()
    has_grads = bool(run.grads)
    for index in plan.order:
        name, op = ir.names[index], ir.op(index)
        stage = "inputs" if op is None else (ir.node_stages[index] or "(no stage)")
        if stage != current:
            lines.append(stage if not lines else f"\n{stage}")
            current = stage
        label = "input" if op is None else op.display(ir.params[index])
        lines.append(f"  {name}  [{label}]  shape {format_shape(run.shape(name))}")
        lines.append("    value    " + _value_text(run, name))
        if has_grads:
            lines.append("    gradient " + format_array(run.grad(name), indent=13))
    return "\n".join(lines)


def _value_text(run: Run, name: str) -> str:
    try:
        return format_array(run.value(name), indent=13)
    except RunStateError:
        return "(released after its last use)"
