"""The main job: the nine-stage BatchNorm on the seed notebook's data, every stage
shown, checked three ways, and drawn.

1. Every stage's node, shape, value and gradient (x = arange(20) as 5x4, gamma = 2,
   beta = 1, eps = 0.1, backward seeded with dout = out).
2. The largest difference from the closed-form backward (docs/batchnorm.md).
3. ``gradcheck``: the backward pass against central differences.
4. The seed notebook's experiment done right: the nine-stage graph against the
   composite one built from mean, power and broadcast nodes, outputs and gradients.
5. What the notebook got wrong: its graph rebuilt with its two bugs, caught by
   ``compare`` and ``gradcheck``, which name the nodes at fault.
6. The forward and backward pictures and the step-by-step player, written to a folder.

>>> import io
>>> out = io.StringIO()
>>> run_demo(out, folder=None)  # the story without the pictures
0
>>> "closed form" in out.getvalue() and "batchnorm_composite" in out.getvalue()
True
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from . import library
from .reference import batchnorm_backward, batchnorm_forward
from .run import Run
from .run_table import stage_table

__all__ = ["run_demo", "TOLERANCE"]

TOLERANCE = 1e-12
"""Largest difference from the closed form accepted on the seed data (float64:
about 50 ulps of the largest gradient, far below any real mistake)."""


def _closed_form(run: Run, inputs: dict[str, Any], out: TextIO) -> bool:
    dout = run.outputs["out"]
    expected_out, cache = batchnorm_forward(**inputs)
    expected = batchnorm_backward(dout, cache)
    print("\nagainst the closed form (docs/batchnorm.md):", file=out)
    worst = float(np.max(np.abs(dout - expected_out)))
    print(f"  out     largest difference {worst:.3g}", file=out)
    for name in ("x", "gamma", "beta", "eps"):
        diff = float(np.max(np.abs(run.grads[name] - expected[name])))
        worst = max(worst, diff)
        print(f"  d{name:<6} largest difference {diff:.3g}", file=out)
    agrees = worst <= TOLERANCE
    print(f"  {'agrees' if agrees else 'DIFFERS'} (tolerance {TOLERANCE:g})", file=out)
    return agrees


def _gradcheck(inputs: dict[str, Any], out: TextIO) -> bool:
    from .testing import GradcheckError, gradcheck

    print("\ngradcheck, central differences against backward:", file=out)
    try:
        report = gradcheck(library.get("batchnorm"), inputs, seed=0)
    except GradcheckError as error:
        report = error.report
    print(report, file=out)
    return report.ok


def _composite(inputs: dict[str, Any], dout: np.ndarray, out: TextIO) -> bool:
    from .testing import compare

    print("\nthe seed notebook's experiment, done right: nine stages against the composite "
          "graph, dout = out", file=out)
    report = compare(library.get("batchnorm"), library.get("batchnorm_composite"), inputs,
                     {"out": dout})
    print(report, file=out)
    return report.ok


def _notebook_bugs(out: TextIO, folder: Path | None) -> tuple[bool, list[str]]:
    """The notebook's own graph, bugs included, against the composite graph: the check
    holds when both tools catch the bugs. With a folder, both are drawn: the buggy
    graph with gradcheck's verdict on every node, and the two graphs side by side with
    the place where they first part."""
    from .notebook import notebook_graph, seed_data
    from .testing import GradcheckError, compare, gradcheck

    print("\nwhat the notebook got wrong: its graph with its two bugs (a multiply that hands "
          "each operand its own value, a centering that drops the minus sign), per-feature "
          "gamma = 2, against the composite graph", file=out)
    inputs = seed_data(gamma=np.full(4, 2.0))
    buggy = notebook_graph("notebook", bad_multiply=True, bad_center=True)
    composite = library.get("batchnorm_composite")
    dout = composite.forward(inputs).outputs["out"]
    report = compare(buggy, composite, inputs, {"out": dout})
    print(report, file=out)
    try:
        check: Any = gradcheck(buggy, inputs, seed=0)
        suspects: list[str] = []
    except GradcheckError as error:
        check = error
        suspects = list(dict.fromkeys(s.node for s in error.report.suspects))
    print("gradcheck names the nodes whose rules disagree with their forward: "
          + (", ".join(suspects) or "none"), file=out)
    caught = not report.ok and bool(suspects)
    print(f"  {'both bugs caught' if caught else 'NOT CAUGHT'}", file=out)
    if folder is None:
        return caught, []
    from .viz import render
    from .viz.compare_view import write_comparison

    folder.mkdir(parents=True, exist_ok=True)
    run = buggy.forward(inputs, keep_values=True)
    run.backward(dout)
    return caught, [
        render(run, folder / "notebook_gradcheck.svg", view="backward", check=check, rules=True),
        write_comparison(buggy, composite, report, folder / "notebook_against_composite.svg"),
    ]


def _pictures(run: Run, folder: Path, out: TextIO, more: list[str]) -> None:
    from .viz import render, render_steps

    folder.mkdir(parents=True, exist_ok=True)
    written = [render(run, folder / f"batchnorm_{view}.svg", view=view)
               for view in ("forward", "backward")]
    written.append(render_steps(run, folder / "player"))
    print("\npictures:", file=out)
    for path in [*written, *more]:
        print(f"  {path}", file=out)


def run_demo(out: TextIO = sys.stdout, folder: Path | None = Path("renders/demo")) -> int:
    """Tell the whole story on ``out``; draw into ``folder`` (nothing drawn for ``None``).
    Returns 0 when every check holds, 1 otherwise."""
    graph = library.get("batchnorm")
    inputs = library.example("batchnorm")
    run = graph.forward(inputs, keep_values=True)
    dout = run.outputs["out"]
    run.backward(dout)
    print(f"bngraph demo: {graph.name}({graph.signature()})", file=out)
    print("data: x = arange(20) as 5x4, gamma = 2, beta = 1, eps = 0.1; "
          "backward seeded with dout = out\n", file=out)
    print(stage_table(run), file=out)
    checks = [
        _closed_form(run, inputs, out), _gradcheck(inputs, out), _composite(inputs, dout, out),
    ]
    caught, drawn = _notebook_bugs(out, folder)
    checks.append(caught)
    if folder is not None:
        _pictures(run, folder, out, drawn)
    verdict = "every check holds" if all(checks) else "A CHECK FAILED"
    print(f"\nbngraph demo: {verdict}.", file=out)
    return 0 if all(checks) else 1
