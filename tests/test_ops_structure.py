"""concat and stack (variadic: a list of operands), and slicing with constant indices:
values against loops written here, gradients against central differences, and the
Python and .bng spellings printed back canonically."""

from __future__ import annotations

import numpy as np
import pytest
from op_checks import check_op

import bngraph as bg
from bngraph.errors import ArityError, GraphDefinitionError, ShapeError

EXACT = {"rtol": 0, "atol": 0}


def _variadic_graph(op_name, params, values):
    g = bg.Graph(op_name)
    inputs = [g.input(f"a{k}") for k in range(len(values))]
    g.output(bg.ops.get_op(op_name)(inputs, name="y", **params))
    return g


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_concat(axis, rng):
    k = axis % 2
    shapes = [(2, 3), (4, 3), (1, 3)] if k == 0 else [(2, 1), (2, 3), (2, 2)]
    values = [rng.standard_normal(s) for s in shapes]

    def reference(*xs):
        if k == 0:
            return np.array([list(r) for x in xs for r in x])
        return np.array([[v for x in xs for v in x[i]] for i in range(2)])

    _check_variadic("concat", {"axis": axis}, values, reference, rng)


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_stack(axis, rng):
    values = [rng.standard_normal((2, 3)) for _ in range(3)]

    def reference(*xs):
        out = np.empty(np.insert(np.array((2, 3)), axis % 3, 3))
        for position, x in enumerate(xs):
            for i, j in np.ndindex(2, 3):
                index = [i, j]
                index.insert(axis % 3, position)
                out[tuple(index)] = x[i, j]
        return out

    _check_variadic("stack", {"axis": axis}, values, reference, rng)


def _check_variadic(op_name, params, values, reference, rng):
    from numeric import numeric_gradient

    graph = _variadic_graph(op_name, params, values)
    inputs = {f"a{k}": v for k, v in enumerate(values)}
    run = graph.forward(inputs)
    np.testing.assert_array_equal(run.outputs["y"], reference(*values))
    op = bg.ops.get_op(op_name)
    assert op.shape(*(v.shape for v in values), **op.full_params(params)) == run.outputs["y"].shape
    seed = rng.standard_normal(run.outputs["y"].shape)
    grads = run.backward(seed)
    for k, value in enumerate(values):
        def loss(v, k=k):
            return float(np.sum(graph.forward({**inputs, f"a{k}": v}).outputs["y"] * seed))

        np.testing.assert_allclose(grads[f"a{k}"], numeric_gradient(loss, value), rtol=1e-6, atol=1e-6)


def test_one_operand_used_twice_gets_both_gradients():
    g = bg.Graph("g")
    a = g.input("a")
    g.output(bg.concat([a, a * 2, a], 0, name="y"))
    assert g.forward(a=np.ones(2)).backward()["a"].tolist() == [4.0, 4.0]


def test_variadic_calls_and_errors():
    g = bg.Graph("g")
    a, b = g.input("a", shape=("N", 2)), g.input("b", shape=("N", 3))
    assert str(bg.concat.__signature__) == "(xs, /, axis=0, *, name=None)"
    assert dict(bg.concat([a, b], 1).params) == {"axis": 1}
    with pytest.raises(ArityError, match=r"takes its operands as a list: concat\(\[a, b, ...\]\)"):
        bg.concat(a, b)
    with pytest.raises(GraphDefinitionError, match="needs at least one node operand"):
        bg.concat([], axis=0)
    with pytest.raises(ShapeError, match="differ outside the joined axis"):
        bg.ops.get_op("concat").shape((2, 3), (3, 4), axis=0)
    assert bg.ops.get_op("concat").shape(("N", 2), ("N", 3), axis=1) == ("N", 5)
    assert bg.ops.get_op("concat").shape(("N", 2), ("M", 2), axis=0) == (None, 2)


def test_a_user_defined_variadic_op():
    total = bg.define_op(
        "structure_total", lambda *xs: sum(xs), [lambda g, out, *xs, position: g],
        variadic=True, saves=[],
    )
    g = bg.parse("input a\ninput b\ny = structure_total([a, b, a])\noutput y")
    assert g.to_dsl().endswith("y = structure_total([a, b, a])\n\noutput y\n")
    grads = g.forward(a=np.ones(2), b=np.ones(2)).backward()
    assert grads["a"].tolist() == [2.0, 2.0] and grads["b"].tolist() == [1.0, 1.0]
    assert total.rule(1, ["a", "b", "a"], "y", {}) == "vjp"


INDEXES = [
    (slice(1, 3), ),
    (slice(None), slice(None, None, 2)),
    (Ellipsis, 0),
    (1, Ellipsis, slice(None, None, -1)),
    (-1, slice(1, None), 2),
    (slice(-3, -1), slice(None), slice(3, 0, -2)),
]


@pytest.mark.parametrize("key", INDEXES, ids=[str(k) for k in INDEXES])
def test_slicing(key, rng):
    x = rng.standard_normal((4, 3, 5))
    g = bg.Graph("g")
    y = g.input("x")[key if len(key) > 1 else key[0]]
    g.output(y.named("y"))
    params = dict(g.spec("y").params)
    check_op("getitem", params, [x], lambda x: np.array(x.tolist())[key], rng=rng, value_tol=EXACT)
    assert bg.parse(g.to_dsl()).to_dsl() == g.to_dsl()


def test_slicing_spellings():
    g = bg.Graph("g")
    x = g.input("x", shape=("N", 5, 4))
    g.output(x[1:3, :, ::2].named("y"), x[..., -1].named("z"), x[0].named("w"))
    text = g.to_dsl()
    assert "y = x[1:3, :, ::2]" in text and "z = x[..., -1]" in text and "w = x[0]" in text
    from bngraph.shapes import static_shapes
    shapes = static_shapes(g)
    assert (shapes["y"], shapes["z"], shapes["w"]) == ((None, 5, 2), ("N", 5), (5, 4))


@pytest.mark.parametrize("key,message", [
    (1.5, "takes ints, slices of ints and ..., not 1.5"),
    ((Ellipsis, Ellipsis), "only one ..."),
    (slice(0, 2, 0), "step cannot be zero"),
    ((), "needs no node"),
])
def test_bad_indices_are_refused_at_once(key, message):
    x = bg.Graph("g").input("x")
    with pytest.raises(GraphDefinitionError, match=message):
        x[key]


def test_a_node_index_points_to_take():
    g = bg.Graph("g")
    x, i = g.input("x"), g.input("i")
    with pytest.raises(GraphDefinitionError, match="use take or take_along_axis"):
        x[i]
    with pytest.raises(TypeError, match="cannot be iterated"):
        list(x)


def test_an_index_out_of_range_names_the_node():
    g = bg.Graph("g")
    g.output(g.input("x", shape=(3,))[5].named("y"))
    with pytest.raises(ShapeError, match=r"node 'y' \(op getitem\).*index 5 is out of range"):
        g.forward(x=np.zeros(3))
