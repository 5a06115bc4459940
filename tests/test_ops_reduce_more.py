"""max, min, prod, var, std, logsumexp, softmax and log_softmax: values against plain
Python over each reduction group (math.fsum, math.prod, builtins max and min),
gradients against central differences, and PyTorch's conventions at ties
(shared equally) and at a zero standard deviation (gradient 0)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from op_checks import check_op, vjp

import bngraph as bg
from bngraph.ops.reduce import normalize_axes


def by_groups(f, axis, keepdims=False):
    """A reduction written as a Python function of each group's list of values."""
    def reference(x):
        axes = normalize_axes(axis, x.ndim)
        rest = [a for a in range(x.ndim) if a not in axes]
        moved = np.transpose(x, rest + list(axes))
        rows = moved.reshape(int(np.prod([x.shape[a] for a in rest])), -1)
        values = np.array([f([float(v) for v in row]) for row in rows])
        shape = tuple(1 if k in axes else d for k, d in enumerate(x.shape)) if keepdims else \
            tuple(x.shape[a] for a in rest)
        return values.reshape(shape)
    return reference


def _var(values, correction):
    mean = math.fsum(values) / len(values)
    return math.fsum((v - mean) ** 2 for v in values) / (len(values) - correction)


def _lse(values):
    top = max(values)
    return top + math.log(math.fsum(math.exp(v - top) for v in values))


AXES = [(None, False), (0, False), (1, True), ((0, 2), False), (-1, True)]
REDUCTIONS = {
    "max": (max, {}),
    "min": (min, {}),
    "prod": (math.prod, {}),
    "logsumexp": (_lse, {}),
    "var": (lambda v: _var(v, 0), {}),
    "std": (lambda v: math.sqrt(_var(v, 0)), {}),
    "var-bessel": (lambda v: _var(v, 1), {"correction": 1}),
    "std-bessel": (lambda v: math.sqrt(_var(v, 1)), {"correction": 1}),
}


@pytest.mark.parametrize("axis,keepdims", AXES, ids=[str(a) for a in AXES])
@pytest.mark.parametrize("name", REDUCTIONS)
def test_reductions(name, axis, keepdims, rng):
    f, params = REDUCTIONS[name]
    x = rng.uniform(0.5, 1.5, size=(2, 3, 4)) * rng.choice([-1.0, 1.0], size=(2, 3, 4))
    check_op(name.split("-")[0], {"axis": axis, "keepdims": keepdims, **params}, [x],
             by_groups(f, axis, keepdims), rng=rng, value_tol={"rtol": 1e-13, "atol": 1e-13})


@pytest.mark.parametrize("name,sign", [("softmax", 1), ("log_softmax", 1)])
@pytest.mark.parametrize("axis", [-1, 0, 1])
def test_softmax_and_log_softmax(name, sign, axis, rng):
    x = rng.standard_normal((3, 4, 2)) * 3

    def reference(x):
        moved = np.moveaxis(x, axis, -1)
        out = np.empty_like(moved)
        for index in np.ndindex(moved.shape[:-1]):
            values = [float(v) for v in moved[index]]
            lse = _lse(values)
            out[index] = [v - lse if name == "log_softmax" else math.exp(v - lse) for v in values]
        return np.moveaxis(out, -1, axis)

    check_op(name, {"axis": axis}, [x], reference, rng=rng, value_tol={"rtol": 1e-13, "atol": 1e-14})


def test_normalizers_are_stable_at_large_logits():
    x = np.array([[1000.0, 1001.0, 999.0], [-1000.0, -1001.0, -1002.0]])
    get = bg.ops.get_op
    expected = [[math.exp(v - _lse(list(row))) for v in row] for row in x.tolist()]
    # v − lse with lse near 1000 carries its ulp (1.1e-13) into the exponent
    np.testing.assert_allclose(get("softmax").forward(x), expected, rtol=1e-12)
    assert np.all(np.isfinite(get("log_softmax").forward(x)))
    np.testing.assert_allclose(get("logsumexp").forward(x, axis=1),
                               [_lse([1000.0, 1001.0, 999.0]), _lse([-1000.0, -1001.0, -1002.0])],
                               rtol=1e-15)
    # an axis of -inf (a row masked out entirely) gives -inf, not nan
    assert get("logsumexp").forward(np.array([-np.inf, -np.inf])) == -np.inf


@pytest.mark.parametrize("name", ["max", "min"])
def test_tied_extremes_share_the_gradient_equally_as_amax(name):
    x = np.array([[3.0, 1.0, 3.0, 3.0], [2.0, 2.0, 0.0, 5.0]])
    if name == "min":
        x = -x
    grads = vjp(name, {"axis": 1}, [x], np.array([6.0, 4.0]))[0]
    assert grads.tolist() == [[2.0, 0.0, 2.0, 2.0], [0.0, 0.0, 0.0, 4.0]]
    whole = vjp(name, {}, [x], 1.0)[0]
    assert whole.tolist() == [[0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]


def test_prod_gradient_with_zeros_is_the_product_of_the_others():
    x = np.array([[2.0, 0.0, 3.0], [0.0, 0.0, 4.0], [1.0, 2.0, 3.0]])
    grads = vjp("prod", {"axis": 1}, [x], np.ones(3))[0]
    assert grads.tolist() == [[0.0, 6.0, 0.0], [0.0, 0.0, 0.0], [6.0, 3.0, 2.0]]


def test_std_of_constant_values_has_zero_gradient_as_pytorch():
    x = np.full((2, 3), 1.5)
    assert vjp("std", {"axis": 1}, [x], np.ones(2))[0].tolist() == [[0.0] * 3] * 2


def test_bessel_correction_over_one_value_is_nan_as_pytorch():
    y = bg.ops.get_op("var").forward(np.array([[1.0], [2.0]]), axis=1, correction=1)
    assert np.isnan(y).all()


def test_reduction_shape_rules_keep_symbols():
    get = bg.ops.get_op
    assert get("var").shape(("N", "D"), axis=0, correction=1, keepdims=False) == ("D",)
    assert get("logsumexp").shape(("N", "K"), axis=-1, keepdims=True) == ("N", 1)
    assert get("softmax").shape(("N", "K"), axis=-1) == ("N", "K")
    with pytest.raises(bg.errors.ShapeError, match="axis 2 is out of range"):
        get("softmax").shape(("N", "K"), axis=2)


def test_float32_stays_float32():
    x = np.linspace(0.1, 1.0, 6, dtype=np.float32).reshape(2, 3)
    for name in ("max", "min", "prod", "var", "std", "logsumexp", "softmax", "log_softmax"):
        g = bg.Graph(name)
        g.output(bg.ops.get_op(name)(g.input("x"), name="y"))
        run = g.forward(x=x)
        assert run.outputs["y"].dtype == np.float32, name
        assert run.backward()["x"].dtype == np.float32, name
