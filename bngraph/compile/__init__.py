"""Compiled plans: a graph's forward and backward passes as flat lists of numpy calls.

For each input signature (shapes, dtypes, which inputs are Python floats) a graph
is compiled once: broadcasting and the sums of gradients back to their operands'
shapes are resolved ahead, intermediate values live in buffers assigned by
liveness and reused by the next runs, gradients are summed in place, and what is
handed to the caller is allocated afresh. ``graph.forward`` takes this path for
numpy arrays and Python floats; ``keep_values=True``, ``check_finite=True`` and
other array types take the interpreter (``bngraph.execute``).
"""

from .cache import compiled_for
from .compiled import CompiledPlan
from .runs import CompiledRun

__all__ = ["CompiledPlan", "CompiledRun", "compiled_for"]
