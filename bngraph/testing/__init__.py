"""Proving a graph right: gradient checks, graph comparisons, a pytest plugin.

- ``gradcheck(graph, inputs)``: central differences against ``backward`` for
  every input; raises ``GradcheckError`` with a table, names the suspect nodes.
- ``compare(g1, g2, inputs)`` / ``assert_graphs_match``: outputs and gradients
  of two graphs, with absolute, relative and ulp differences.
- ``bngraph.testing.pytest_plugin`` (loaded by pytest automatically): the ``rng``
  and ``norm_inputs`` fixtures and the ``--bngraph-seed`` option.
- ``bngraph.testing.strategies``: hypothesis strategies for shapes and inputs.

Non-finite values stop the helpers at the first node that produced them
(``check_finite=True`` is their default).

>>> import bngraph as bg
>>> bg.testing.gradcheck(bg.library.get("layernorm"), bg.library.example("layernorm"), seed=0).ok
True
"""

from .compare import (
    CompareError,
    CompareReport,
    Difference,
    GraphsDifferError,
    assert_graphs_match,
    compare,
)
from .gradcheck import (
    GradcheckError,
    GradcheckReport,
    InputCheck,
    NodeCheck,
    check_nodes,
    gradcheck,
)

__all__ = [
    "gradcheck", "check_nodes", "GradcheckReport", "InputCheck", "NodeCheck", "GradcheckError",
    "compare", "assert_graphs_match", "CompareReport", "Difference", "CompareError",
    "GraphsDifferError",
]
