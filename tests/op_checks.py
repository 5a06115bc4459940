"""Checking one op in a one-node graph: its value against an independent reference,
and its gradients against central differences (float64), with a random seed so
that the whole Jacobian is probed, not just its column sums."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numeric import numeric_gradient

import bngraph as bg
from bngraph.ops import get_op

# Central differences with h = 1e-6 on values of order one are accurate to ~1e-8
# (truncation O(h²), rounding O(ε/h)); 1e-6 leaves room for second derivatives of
# a few units (conv sums, exp of values near 2) while catching any wrong rule,
# whose error is of the size of the gradient itself.
GRAD_TOL = {"rtol": 1e-6, "atol": 1e-6}
# The op and the reference compute the same function in different orders: a few
# ulps of values of order one.
VALUE_TOL = {"rtol": 1e-12, "atol": 1e-12}


def one_node_graph(op_name: str, params: dict[str, Any], count: int) -> bg.Graph:
    g = bg.Graph(op_name)
    operands = [g.input(f"a{k}") for k in range(count)]
    g.output(get_op(op_name)(*operands, name="y", **params))
    return g


def check_op(
    op_name: str,
    params: dict[str, Any],
    values: Sequence[Any],
    reference: Callable[..., Any] | None = None,
    *,
    rng: np.random.Generator,
    value_tol: dict[str, float] = VALUE_TOL,
) -> dict[str, np.ndarray]:
    """Run ``op_name`` on ``values``; compare its value with ``reference(*values)``
    and every gradient with central differences; return the gradients."""
    graph = one_node_graph(op_name, params, len(values))
    inputs = {f"a{k}": v for k, v in enumerate(values)}
    run = graph.forward(inputs)
    y = run.outputs["y"]
    if reference is not None:
        expected = reference(*values)
        assert np.shape(y) == np.shape(expected), (np.shape(y), np.shape(expected))
        np.testing.assert_allclose(y, expected, **value_tol)
    op = get_op(op_name)
    shape_rule = op.shape(*(np.shape(v) for v in values), **op.full_params(params))
    assert tuple(shape_rule) == np.shape(y)
    seed = rng.standard_normal(np.shape(y))
    grads = run.backward(seed)
    for k, value in enumerate(values):
        assert grads[f"a{k}"].shape == np.shape(value)
        if k in op.no_grad:
            np.testing.assert_array_equal(grads[f"a{k}"], 0)
            continue

        def loss(v: np.ndarray, k: int = k) -> float:
            return float(np.sum(graph.forward({**inputs, f"a{k}": v}).outputs["y"] * seed))

        numeric = numeric_gradient(loss, value)
        np.testing.assert_allclose(grads[f"a{k}"], numeric, err_msg=f"operand {k}", **GRAD_TOL)
    return grads


def vjp(op_name: str, params: dict[str, Any], values: Sequence[Any], seed: Any) -> list[Any]:
    """The gradients the op's rules give for ``seed`` (through the engine), per operand."""
    graph = one_node_graph(op_name, params, len(values))
    run = graph.forward({f"a{k}": v for k, v in enumerate(values)})
    grads = run.backward(np.asarray(seed, dtype=np.float64))
    return [grads[f"a{k}"] for k in range(len(values))]
