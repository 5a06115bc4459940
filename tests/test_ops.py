"""Every built-in op's vector-Jacobian rules against central differences (float64),
on shapes that broadcast, so that each rule's reduction to its operand's shape is checked too."""

from __future__ import annotations

import numpy as np
import pytest
from numeric import numeric_gradient

import bngraph as bg
from bngraph.errors import ParamError, ShapeError, UnknownOpError
from bngraph.ops import get_op, op_names

# Central differences with h = 1e-6 on values of order one are accurate to ~1e-8;
# 1e-6 leaves room for the largest values below while catching any wrong rule.
TOLERANCE = 1e-6

rng = np.random.default_rng(20261124)


def positive(*shape: int) -> np.ndarray:
    return rng.uniform(0.5, 2.0, size=shape)


def signed(*shape: int) -> np.ndarray:
    values = rng.uniform(0.3, 1.5, size=shape)
    return values * rng.choice([-1.0, 1.0], size=shape)


# (op, params, operand values): binary cases broadcast one way or the other
CASES = [
    ("add", {}, [signed(3, 4), signed(4)]),
    ("add", {}, [signed(1, 4), signed(3, 1)]),
    ("sub", {}, [signed(3, 4), signed(3, 1)]),
    ("sub", {}, [signed(4), signed(2, 3, 4)]),
    ("mul", {}, [signed(3, 4), signed(4)]),
    ("mul", {}, [signed(2, 1, 4), signed(3, 1)]),
    ("div", {}, [signed(3, 4), positive(3, 1)]),
    ("div", {}, [signed(4), positive(2, 4)]),
    ("neg", {}, [signed(3, 4)]),
    ("pow", {"exponent": 2}, [signed(3, 4)]),
    ("pow", {"exponent": 3}, [signed(5)]),
    ("pow", {"exponent": 0.5}, [positive(3, 4)]),
    ("pow", {"exponent": -1}, [positive(3, 4)]),
    ("square", {}, [signed(3, 4)]),
    ("sqrt", {}, [positive(3, 4)]),
    ("reciprocal", {}, [positive(3, 4)]),
    ("exp", {}, [signed(3, 4)]),
    ("log", {}, [positive(3, 4)]),
    ("tanh", {}, [signed(3, 4)]),
    ("relu", {}, [signed(3, 4)]),
    ("sum", {}, [signed(3, 4)]),
    ("sum", {"axis": 0}, [signed(3, 4)]),
    ("sum", {"axis": (0, 2), "keepdims": True}, [signed(2, 3, 4)]),
    ("sum", {"axis": -1}, [signed(2, 3, 4)]),
    ("mean", {}, [signed(3, 4)]),
    ("mean", {"axis": 0}, [signed(3, 4)]),
    ("mean", {"axis": 1, "keepdims": True}, [signed(3, 4)]),
    ("mean", {"axis": (0, 2)}, [signed(2, 3, 4)]),
    ("broadcast_to", {"shape": (3, 4)}, [signed(4)]),
    ("broadcast_to", {"shape": (2, 3, 4)}, [signed(3, 1)]),
    ("broadcast_like", {}, [signed(1, 4), signed(3, 4)]),
    ("reshape", {"shape": (4, 3)}, [signed(3, 4)]),
    ("reshape", {"shape": (2, -1)}, [signed(2, 3, 2)]),
    ("transpose", {}, [signed(3, 4)]),
    ("transpose", {"axes": (2, 0, 1)}, [signed(2, 3, 4)]),
    ("matmul", {}, [signed(3, 4), signed(4, 2)]),
    ("matmul", {}, [signed(4), signed(4, 2)]),
    ("matmul", {}, [signed(3, 4), signed(4)]),
    ("matmul", {}, [signed(4), signed(4)]),
    ("matmul", {}, [signed(2, 3, 4), signed(4, 5)]),
    ("matmul", {}, [signed(3, 4), signed(2, 4, 5)]),
]


def _graph(op_name: str, params: dict, count: int) -> bg.Graph:
    g = bg.Graph(op_name)
    operands = [g.input(f"a{k}") for k in range(count)]
    g.output(get_op(op_name)(*operands, name="y", **params))
    return g


@pytest.mark.parametrize(("op_name", "params", "values"), CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_vjp_matches_central_differences(op_name: str, params: dict, values: list) -> None:
    graph = _graph(op_name, params, len(values))
    inputs = {f"a{k}": v for k, v in enumerate(values)}
    run = graph.forward(inputs)
    y = run.outputs["y"]
    expected_y = get_op(op_name).forward(*values, **params)
    np.testing.assert_array_equal(y, expected_y)
    seed = rng.standard_normal(np.shape(y))  # a random projection: checks the whole Jacobian
    grads = run.backward(seed)
    for k, value in enumerate(values):
        def loss(v: np.ndarray, k: int = k) -> float:
            args = {**inputs, f"a{k}": v}
            return float(np.sum(graph.forward(args).outputs["y"] * seed))

        numeric = numeric_gradient(loss, value)
        assert grads[f"a{k}"].shape == np.shape(value)
        np.testing.assert_allclose(grads[f"a{k}"], numeric, atol=TOLERANCE, rtol=TOLERANCE)


def test_every_builtin_op_is_covered_above() -> None:
    assert set(op_names()) >= {c[0] for c in CASES}
    required = {"add", "sub", "mul", "div", "neg", "pow", "square", "sqrt", "reciprocal", "exp",
                "log", "tanh", "relu", "sum", "mean", "broadcast_to", "broadcast_like",
                "reshape", "transpose", "matmul"}
    assert required <= {c[0] for c in CASES}


@pytest.mark.parametrize("op_name", sorted({c[0] for c in CASES}))
def test_shape_rule_agrees_with_forward(op_name: str) -> None:
    op = get_op(op_name)
    for name, params, values in CASES:
        if name == op_name:
            shapes = [np.shape(v) for v in values]
            assert op.shape(*shapes, **op.full_params(params)) == np.shape(op.forward(*values, **params))


def test_shape_rules_keep_symbols() -> None:
    assert get_op("sub").shape(("N", "D"), ("D",)) == ("N", "D")
    assert get_op("mean").shape(("N", "D"), axis=0, keepdims=True) == (1, "D")
    assert get_op("matmul").shape(("N", "K"), ("K", "M")) == ("N", "M")


def test_shape_rule_names_both_shapes() -> None:
    with pytest.raises(ShapeError, match=r"\(5, 4\) and \(3,\)"):
        get_op("add").shape((5, 4), (3,))


def test_unknown_op_lists_the_known_ops() -> None:
    with pytest.raises(UnknownOpError) as info:
        get_op("maen")
    message = str(info.value)
    assert "did you mean 'mean'" in message
    assert "known ops:" in message and "matmul" in message and "sqrt" in message


def test_unknown_parameter_lists_the_valid_ones() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with pytest.raises(ParamError, match=r"no parameter 'axes'.*did you mean 'axis'.*axis, keepdims"):
        bg.mean(x, axes=0)


def test_parameters_must_be_literals() -> None:
    g = bg.Graph("g")
    x = g.input("x")
    with pytest.raises(ParamError, match="not a literal"):
        bg.mean(x, axis=np.zeros(2) + 0.5)


def test_float32_stays_float32_through_every_unary_op() -> None:
    for name in ("neg", "square", "sqrt", "reciprocal", "exp", "log", "tanh", "relu"):
        g = _graph(name, {}, 1)
        run = g.forward(a0=positive(3).astype(np.float32))
        assert run.outputs["y"].dtype == np.float32, name
        assert run.backward()["a0"].dtype == np.float32, name
