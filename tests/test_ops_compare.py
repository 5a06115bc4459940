"""maximum, minimum, where and the comparison masks: values against Python's own
comparisons entry by entry, gradients against central differences where they are
defined, and PyTorch's convention at ties (each operand gets half)."""

from __future__ import annotations

import numpy as np
import pytest
from op_checks import check_op, vjp

import bngraph as bg


def entrywise(f):
    return lambda *xs: np.vectorize(f, otypes=[np.float64])(*xs)


CASES = [
    ("maximum", lambda a, b: a if a > b else b),
    ("minimum", lambda a, b: a if a < b else b),
    ("greater", lambda a, b: float(a > b)),
    ("less", lambda a, b: float(a < b)),
    ("equal", lambda a, b: float(a == b)),
]


@pytest.mark.parametrize(("op_name", "reference"), CASES, ids=[c[0] for c in CASES])
def test_values_and_gradients_with_broadcasting(op_name, reference, rng):
    a = rng.standard_normal((3, 4))
    b = rng.standard_normal((4,))
    a[0, 1] = b[1]  # an exact tie, which equal must see
    if op_name in ("maximum", "minimum"):
        a[0, 1] += 0.5  # central differences need a point away from the tie (tested below)
    check_op(op_name, {}, [a, b], entrywise(reference), rng=rng, value_tol={"rtol": 0, "atol": 0})


@pytest.mark.parametrize("op_name", ["maximum", "minimum"])
def test_a_tie_shares_the_gradient_equally_as_pytorch(op_name):
    a, b = np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 2.0])
    da, db = vjp(op_name, {}, [a, b], np.array([10.0, 10.0, 10.0]))
    low, high = ([0.0, 5.0, 10.0], [10.0, 5.0, 0.0])
    assert (da.tolist(), db.tolist()) == ((low, high) if op_name == "maximum" else (high, low))


def test_a_number_operand_stays_a_number_and_ties_with_it_split():
    g = bg.Graph("g")
    x = g.input("x")
    g.output(bg.maximum(x, 0.0, name="y"))
    run = g.forward(x=np.array([-1.0, 0.0, 2.0]))
    assert run.outputs["y"].tolist() == [0.0, 0.0, 2.0]
    assert run.backward()["x"].tolist() == [0.0, 0.5, 1.0]


def test_where_picks_and_routes_gradients_and_the_mask_gets_none(rng):
    cond = np.array([[1.0, 0.0, 1.0, 0.0]])
    a, b = rng.standard_normal((3, 4)), rng.standard_normal((3, 1))
    grads = check_op("where", {}, [cond, a, b], entrywise(lambda c, x, y: x if c else y), rng=rng,
                     value_tol={"rtol": 0, "atol": 0})
    assert grads["a0"].tolist() == [[0.0] * 4]
    assert bg.ops.get_op("where").no_grad == {0}


def test_masks_take_the_floating_dtype_and_stop_gradients():
    g = bg.Graph("g")
    x = g.input("x")
    mask = bg.greater(x, 0.0, name="mask")
    g.output((mask * x).named("y"))
    run = g.forward(x=np.array([-1.0, 2.0], dtype=np.float32), keep_values=True)
    assert run.value("mask").dtype == np.float32 and run.value("mask").tolist() == [0.0, 1.0]
    assert run.backward()["x"].tolist() == [0.0, 1.0]  # only through the product
    assert bg.ops.get_op("greater").no_grad == {0, 1}


def test_where_with_a_masked_value_in_text():
    g = bg.parse("input s[N]\ninput m[N]\ny = where(m, s, -1e9)\noutput y")
    run = g.forward(s=np.array([1.0, 2.0]), m=np.array([1.0, 0.0]))
    assert run.outputs["y"].tolist() == [1.0, -1e9]
    assert run.backward()["s"].tolist() == [1.0, 0.0]
