"""take, take_along_axis, one_hot, pad, flip, squeeze and expand_dims: values against
loops over the entries written here, gradients against central differences (an
entry picked twice gets both gradients), indices refused rather than rounded."""

from __future__ import annotations

import numpy as np
import pytest
from op_checks import check_op

import bngraph as bg
from bngraph.errors import OpError, ShapeError

EXACT = {"rtol": 0, "atol": 0}


@pytest.mark.parametrize("axis", [None, 0, 1, -1])
def test_take(axis, rng):
    x = rng.standard_normal((3, 4))
    indices = np.array([[0, 2], [2, -1]])  # a repeat and a negative index

    def reference(x, indices):
        if axis is None:
            flat = list(x.ravel())
            return np.array([[flat[i] for i in row] for row in indices])
        k = axis % 2
        moved = np.moveaxis(x, k, 0)
        picked = np.array([[moved[i] for i in row] for row in indices])  # (2, 2, other)
        return np.moveaxis(picked, 2, 0) if k == 1 else picked

    check_op("take", {"axis": axis}, [x, indices], reference, rng=rng, value_tol=EXACT)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_take_along_axis(axis, rng):
    x = rng.standard_normal((3, 4))
    k = axis % 2
    shape = (2, 4) if k == 0 else (3, 2)
    indices = rng.integers(-x.shape[k], x.shape[k], size=shape)
    indices.flat[0] = indices.flat[1]  # a repeat along the axis when shapes line up

    def reference(x, indices):
        out = np.empty(indices.shape)
        for i, j in np.ndindex(indices.shape):
            out[i, j] = x[indices[i, j], j] if k == 0 else x[i, indices[i, j]]
        return out

    check_op("take_along_axis", {"axis": axis}, [x, indices], reference, rng=rng, value_tol=EXACT)


def test_take_along_axis_broadcasts_the_other_axes(rng):
    x = rng.standard_normal((3, 4))
    indices = np.array([[1], [3], [0]])
    check_op("take_along_axis", {"axis": 1}, [x, indices],
             lambda x, i: np.array([[x[r, i[r, 0]]] for r in range(3)]), rng=rng, value_tol=EXACT)
    assert bg.ops.get_op("take_along_axis").shape(("N", "K"), ("N", 1), axis=1) == ("N", 1)


def test_one_hot():
    labels = np.array([[2, 0], [1, 2]])
    expected = [[[float(c == label) for c in range(3)] for label in row] for row in labels.tolist()]
    g = bg.Graph("g")
    g.output(bg.one_hot(g.input("labels"), 3, name="y"))
    run = g.forward(labels=labels)
    assert run.outputs["y"].tolist() == expected and run.outputs["y"].dtype == np.float64
    assert bg.ops.get_op("one_hot").shape(("N",), num_classes=3, dtype="float32") == ("N", 3)
    with pytest.raises(OpError, match=r"label 3 is outside 0 … 2"):
        g.forward(labels=np.array([3]))


@pytest.mark.parametrize("bad,message", [(np.array([0.5]), "whole numbers, not 0.5"),
                                         (np.array([np.nan]), "whole numbers")])
def test_indices_are_refused_not_rounded(bad, message):
    g = bg.Graph("g")
    g.output(bg.take(g.input("x"), g.input("i"), name="y"))
    with pytest.raises(OpError, match=message):
        g.forward(x=np.arange(3.0), i=bad)


def test_an_index_out_of_range_is_an_error():
    g = bg.Graph("g")
    g.output(bg.take_along_axis(g.input("x"), g.input("i"), axis=0, name="y"))
    with pytest.raises(OpError, match="node 'y'"):
        g.forward(x=np.zeros((2, 2)), i=np.array([[2, 0]]))


@pytest.mark.parametrize("pad_width", [1, (1, 2), ((0, 0), (2, 1)), ((1, 0), (0, 3))])
def test_pad(pad_width, rng):
    x = rng.standard_normal((2, 3))
    pairs = {1: ((1, 1), (1, 1)), (1, 2): ((1, 2), (1, 2))}.get(pad_width, pad_width)

    def reference(x):
        (top, bottom), (left, right) = pairs
        out = np.full((2 + top + bottom, 3 + left + right), 0.5)
        for i, j in np.ndindex(x.shape):
            out[i + top, j + left] = x[i, j]
        return out

    check_op("pad", {"pad_width": pad_width, "value": 0.5}, [x], reference, rng=rng, value_tol=EXACT)


def test_pad_refuses_negative_and_misshapen_widths():
    get = bg.ops.get_op
    with pytest.raises(ShapeError, match="cannot be negative"):
        get("pad").shape((2, 3), pad_width=((0, 0), (-1, 0)), value=0.0)
    with pytest.raises(ShapeError, match="fits no spelling for 2 axes"):
        get("pad").shape((2, 3), pad_width=((0, 0), (1, 1), (1, 1)), value=0.0)


@pytest.mark.parametrize("axis", [None, 0, (0, 2), -1])
def test_flip(axis, rng):
    x = rng.standard_normal((2, 3, 4))

    def reference(x):
        axes = {None: (0, 1, 2), 0: (0,), (0, 2): (0, 2), -1: (2,)}[axis]
        out = np.empty_like(x)
        for index in np.ndindex(x.shape):
            out[tuple(x.shape[a] - 1 - i if a in axes else i for a, i in enumerate(index))] = x[index]
        return out

    check_op("flip", {"axis": axis}, [x], reference, rng=rng, value_tol=EXACT)


@pytest.mark.parametrize("op_name,params,shape,expected", [
    ("squeeze", {}, (1, 3, 1, 2), (3, 2)),
    ("squeeze", {"axis": 2}, (1, 3, 1, 2), (1, 3, 2)),
    ("squeeze", {"axis": (0, -2)}, (1, 3, 1, 2), (3, 2)),
    ("expand_dims", {"axis": 0}, (3, 2), (1, 3, 2)),
    ("expand_dims", {"axis": -1}, (3, 2), (3, 2, 1)),
    ("expand_dims", {"axis": (0, 2)}, (3, 2), (1, 3, 1, 2)),
])
def test_squeeze_and_expand_dims(op_name, params, shape, expected, rng):
    x = rng.standard_normal(shape)
    check_op(op_name, params, [x], lambda x: x.reshape(expected), rng=rng, value_tol=EXACT)


def test_squeeze_refuses_an_axis_whose_size_is_not_one():
    with pytest.raises(ShapeError, match="cannot squeeze axis 1"):
        bg.ops.get_op("squeeze").shape((1, 3), axis=1)
    assert bg.ops.get_op("squeeze").shape(("N", 1), axis=1) == ("N",)


def test_index_ops_in_text():
    g = bg.parse(
        "input x[N, K]\ninput labels[N]\n"
        "idx = expand_dims(labels, axis=1)\n"
        "picked = take_along_axis(x, idx, axis=1)\n"
        "padded = pad(picked, pad_width=((0, 0), (1, 1)))\n"
        "output padded"
    )
    assert "padded = pad(picked, pad_width=((0, 0), (1, 1)))" in g.to_dsl()
    assert bg.parse(g.to_dsl()).to_dsl() == g.to_dsl()
    run = g.forward(x=np.arange(6.0).reshape(2, 3), labels=np.array([2, 0]))
    assert run.outputs["padded"].tolist() == [[0.0, 2.0, 0.0], [0.0, 3.0, 0.0]]
