"""Plain-text tables of a run: per stage, each node with its shape, value and gradient.

>>> import bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> run = g.forward(**bg.library.example("batchnorm"), keep_values=True)
>>> _ = run.backward(run.outputs["out"])
>>> print(stage_table(run).splitlines()[0])
inputs
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import RunStateError
from .graph import INPUT
from .ops import format_shape, get_op
from .run import Run

__all__ = ["stage_table", "format_array", "format_table", "format_number", "format_index"]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Columns padded to their widest cell, a rule under the header.

    >>> print(format_table(["a", "b"], [["1", "22"]]))
    a  b
    -  --
    1  22
    """
    widths = [max(len(str(c)) for c in column) for column in zip(header, *rows)]
    lines = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(line, widths)).rstrip() for line in lines
    )


def format_number(number: Any) -> str:
    """Four significant digits (``nan``/``inf`` as such); negative zero prints as ``0``.

    >>> format_number(-0.0), format_number(1 / 3), format_number(12345678.0), format_number(2.0)
    ('0', '0.3333', '1.235e+07', '2')
    """
    number = float(number)
    return "0" if number == 0 else f"{number:.4g}"


def format_index(index: tuple[int, ...]) -> str:
    """An array index as written in numpy: ``(2, 1)``, ``()`` for a scalar.

    >>> format_index((2, 1)), format_index((3,)), format_index(())
    ('(2, 1)', '(3,)', '()')
    """
    return str(tuple(int(k) for k in index))


def format_array(value: object, indent: int = 0) -> str:
    """An array printed compactly (4 significant digits), continuation lines indented.

    >>> format_array(np.array([[1.0, 2.5], [3.0, 4.0]]), indent=2)
    '[[1.  2.5]\\n   [3.  4. ]]'
    """
    text = np.array2string(
        np.asarray(value), precision=4, suppress_small=True, max_line_width=100
    )
    return text.replace("\n", "\n" + " " * indent)


def stage_table(run: Run) -> str:
    """Every node of the run, grouped by stage in schedule order: name, op, shape,
    value and gradient (the gradient once ``run.backward`` has been called)."""
    graph = run.graph
    lines: list[str] = []
    current: object = object()
    has_grads = bool(run.grads)
    for name in graph.order:
        spec = graph.spec(name)
        stage = "inputs" if spec.op == INPUT else (spec.stage or "(no stage)")
        if stage != current:
            lines.append(stage if not lines else f"\n{stage}")
            current = stage
        label = "input" if spec.op == INPUT else get_op(spec.op).display(spec.params)
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
