"""The main job: the nine-stage BatchNorm on the seed notebook's data, every stage shown.

>>> import io
>>> out = io.StringIO()
>>> run_demo(out)
0
>>> "closed form" in out.getvalue()
True
"""

from __future__ import annotations

import sys
from typing import TextIO

import numpy as np

from . import library
from .reference import batchnorm_backward, batchnorm_forward
from .tables import stage_table

__all__ = ["run_demo", "TOLERANCE"]

TOLERANCE = 1e-12
"""Largest difference from the closed form accepted on the seed data (float64:
about 50 ulps of the largest gradient, far below any real mistake)."""


def run_demo(out: TextIO = sys.stdout) -> int:
    """Print the stage table and the check against the closed form; 0 when it holds."""
    graph = library.get("batchnorm")
    inputs = library.example("batchnorm")
    run = graph.forward(inputs, keep_values=True)
    dout = run.outputs["out"]
    grads = run.backward(dout)
    print(f"bngraph demo: {graph.name}({graph.signature()})", file=out)
    print("data: x = arange(20) as 5x4, gamma = 2, beta = 1, eps = 0.1; "
          "backward seeded with dout = out\n", file=out)
    print(stage_table(run), file=out)
    expected_out, cache = batchnorm_forward(**inputs)
    expected = batchnorm_backward(dout, cache)
    print("\nagainst the closed form (DESIGN.md):", file=out)
    worst = float(np.max(np.abs(run.outputs["out"] - expected_out)))
    print(f"  out     largest difference {worst:.3g}", file=out)
    for name in ("x", "gamma", "beta", "eps"):
        diff = float(np.max(np.abs(grads[name] - expected[name])))
        worst = max(worst, diff)
        print(f"  d{name:<6} largest difference {diff:.3g}", file=out)
    verdict = "agrees" if worst <= TOLERANCE else "DIFFERS"
    print(f"\nbngraph {verdict} with the closed form (tolerance {TOLERANCE:g}).", file=out)
    return 0 if worst <= TOLERANCE else 1
