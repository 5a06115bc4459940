"""Peak memory of one BatchNorm forward + backward, in arrays above the inputs.

Each contender runs in a fresh process: it makes the inputs (x, gamma, beta, dout)
at 16384x1024 float64, notes its resident memory, runs one forward + backward
keeping what it returns (the output and the gradients), and reports how far its
peak resident memory (the kernel's high-water mark, ``VmHWM``) rose, in arrays of
16384x1024 float64 (128 MiB each). (``getrusage``'s maximum is no measure here: a
child process started by a large one inherits its parent's.)

Usage: python benchmarks/bench_memory.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import numpy as np

N, D = 16384, 1024
HERE = os.path.dirname(os.path.abspath(__file__))
CONTENDERS = ("bngraph", "interpreted", "staged")


def _status(field: str) -> int:
    with open("/proc/self/status", encoding="ascii") as file:
        for line in file:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise KeyError(field)


def interpreted(graph: Any, inputs: dict[str, Any]) -> Any:
    """A run of the interpreter alone (``forward`` would take the compiled path)."""
    from bngraph.binding import bind_inputs
    from bngraph.execute import forward_pass
    from bngraph.run import Run

    bound = bind_inputs(graph.plan, inputs)
    forward_pass(graph.plan, bound.values, bound.shapes, release=True, check_finite=False,
                 float_dtype=bound.float_dtype)
    return Run(graph, bound, keep_values=False, forward_seconds=0.0)


def child(name: str) -> None:
    """Run in the fresh process: one forward + backward, the rise of the peak printed."""
    sys.path.insert(0, HERE)
    from contenders import staged

    import bngraph as bg
    import bngraph.compile  # noqa: F401 - code, loaded before the measure as bngraph is

    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, D))
    gamma, beta = rng.standard_normal(D), rng.standard_normal(D)
    dout = rng.standard_normal((N, D))
    graph = bg.library.get("batchnorm")
    before = _status("VmHWM")
    inputs = {"x": x, "gamma": gamma, "beta": beta}
    if name == "staged":
        kept = staged(x, gamma, beta, 1e-5, dout)
    else:
        run = graph.forward(inputs) if name == "bngraph" else interpreted(graph, inputs)
        kept = (run.outputs["out"], run.backward(dout))
    peak = _status("VmHWM")
    print(json.dumps({"hwm": (peak - before) / (N * D * 8)}))
    del kept


def measure(name: str) -> dict[str, float]:
    done = subprocess.run([sys.executable, __file__, "--child", name], capture_output=True,
                          text=True, check=True)
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def memory_table() -> list[str]:
    lines = [f"Peak memory of forward + backward at {N}x{D} float64, arrays above the inputs:"]
    print(lines[0], flush=True)
    for name in CONTENDERS:
        found = measure(name)
        line = f"  {name:<12} {found['hwm']:.3f}"
        lines.append(line)
        print(line, flush=True)
    return lines


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        child(sys.argv[2])
    else:
        memory_table()
