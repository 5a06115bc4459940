"""The general shape ops added for symbolic reshapes: split_axis and reshape_like."""

import numpy as np
import pytest
from numeric import numeric_gradient

import bngraph as bg
from bngraph.errors import ShapeError
from bngraph.ops import get_op
from bngraph.shapes import static_shapes


def _split_graph(parts):
    g = bg.Graph("split")
    x = g.input("x", shape=("N", "C", "H", "W"))
    with g.stage("1 split"):
        y = bg.split_axis(x, axis=1, parts=parts, name="y")
    g.output(y)
    return g


def test_split_axis_forward_is_numpy_reshape(rng):
    x = rng.standard_normal((2, 6, 3, 2))
    out = _split_graph(3).forward(x=x).outputs["y"]
    np.testing.assert_array_equal(out, x.reshape(2, 3, 2, 3, 2))


def test_split_axis_negative_axis():
    x = np.arange(12.0).reshape(3, 4)
    np.testing.assert_array_equal(get_op("split_axis").forward(x, axis=-1, parts=2), x.reshape(3, 2, 2))


def test_split_axis_shape_rule_keeps_symbols():
    shape = get_op("split_axis").shape
    assert shape(("N", 6, "H"), axis=1, parts=2) == ("N", 2, 3, "H")
    assert shape(("N", "C", "H"), axis=1, parts=2) == ("N", 2, None, "H")
    assert static_shapes(_split_graph(2))["y"] == ("N", 2, None, "H", "W")


def test_split_axis_refuses_unequal_parts():
    with pytest.raises(ShapeError, match="size 6, which does not split into 4 equal parts"):
        get_op("split_axis").shape((2, 6), axis=1, parts=4)
    with pytest.raises(ShapeError, match="parts must be at least 1, not 0"):
        get_op("split_axis").shape((2, 6), axis=1, parts=0)


def test_split_axis_error_at_run_time_names_the_node():
    with pytest.raises(ShapeError, match=r"node 'y' \(op split_axis, stage '1 split'\).*3 equal parts"):
        _split_graph(3).forward(x=np.zeros((1, 4, 2, 2)))


def test_split_axis_axis_out_of_range():
    with pytest.raises(ShapeError, match="out of range"):
        get_op("split_axis").shape((2, 6), axis=2, parts=2)


def test_split_axis_vjp_matches_central_differences(rng):
    x = rng.standard_normal((2, 4, 3))
    v = rng.standard_normal((2, 2, 2, 3))
    op = get_op("split_axis")
    analytic = op.vjps[0](v, None, x, axis=1, parts=2)
    numeric = numeric_gradient(lambda z: float(np.sum(v * op.forward(z, axis=1, parts=2))), x)
    # a linear map: central differences are exact up to rounding of O(1e-16 / 1e-6)
    np.testing.assert_allclose(analytic, numeric, atol=1e-9)


def test_reshape_like_forward_and_vjps(rng):
    x = rng.standard_normal((2, 3, 4))
    like = np.zeros((6, 4))
    v = rng.standard_normal((6, 4))
    op = get_op("reshape_like")
    np.testing.assert_array_equal(op.forward(x, like), x.reshape(6, 4))
    numeric = numeric_gradient(lambda z: float(np.sum(v * op.forward(z, like))), x)
    np.testing.assert_allclose(op.vjps[0](v, None, x, like), numeric, atol=1e-9)
    assert op.no_grad == {1}  # like gives only its shape


def test_reshape_like_in_a_graph_gets_no_gradient_for_like(rng):
    g = bg.Graph("rl")
    x, like = g.input("x", shape=("A", "B")), g.input("like", shape=("K",))
    g.output(bg.reshape_like(x * x, like, name="y"))
    value = rng.standard_normal((2, 3))
    run = g.forward(x=value, like=np.zeros(6))
    grads = run.backward(np.ones(6))
    np.testing.assert_allclose(grads["x"], 2 * value, rtol=1e-15)
    np.testing.assert_array_equal(grads["like"], np.zeros(6))


def test_reshape_like_shape_rule():
    shape = get_op("reshape_like").shape
    assert shape(("N", 2, 3), ("N", 6)) == ("N", 6)
    with pytest.raises(ShapeError, match=r"cannot reshape \(2, 3\) like \(5,\)"):
        shape((2, 3), (5,))


def test_labels_and_saves():
    assert get_op("split_axis").display({"axis": 1, "parts": 4}) == "split axis 1 in 4"
    assert get_op("reshape_like").display({}) == "reshape like"
    assert get_op("split_axis").saves == frozenset() and get_op("reshape_like").saves == frozenset()


def test_released_operands_are_enough_for_the_rules(rng):
    """saves=[] : the rules read only shapes, which a released value keeps."""
    g = bg.library.get("groupnorm")
    run = g.forward(**bg.library.example("groupnorm"))
    assert "xg" in run.released()
    assert run.backward()["x"].shape == (2, 4, 3, 3)
