"""The run's contract at its edges: broadcast inputs, empty batches, non-finite results,
dtypes, weak numbers, edits after a run, and names that do not exist."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import (
    BngraphError,
    InputError,
    NonFiniteWarning,
    ShapeError,
    UnknownNameError,
)
from bngraph.reference import groupnorm_forward, spatial_batchnorm_forward

rng = np.random.default_rng(20261130)


# ---------------------------------------------------------------- the broadcast rule


def test_a_lower_rank_value_is_computed_as_its_broadcast() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(x=np.arange(4.0), gamma=1, beta=0)
    as_row = g.forward(x=np.arange(4.0).reshape(1, 4), gamma=1, beta=0)
    np.testing.assert_array_equal(run.outputs["out"], as_row.outputs["out"])
    np.testing.assert_array_equal(run.outputs["out"], np.zeros((1, 4)))
    assert run.dims == {"N": 1, "D": 4}
    grads = run.backward(np.ones((1, 4)))
    assert grads["x"].shape == (4,) and grads["gamma"].shape == ()
    np.testing.assert_array_equal(grads["x"], as_row.backward(np.ones((1, 4)))["x"][0])


def test_a_size_one_axis_is_stretched_to_the_size_another_input_binds() -> None:
    g = bg.parse("input x[N, D]\ninput w[N, D]\ny = sum(x, axis=0) * sum(w, axis=0)\noutput y")
    w = rng.standard_normal((5, 3))
    row = rng.standard_normal((1, 3))
    run = g.forward(x=row, w=w)
    full = g.forward(x=np.repeat(row, 5, axis=0), w=w)
    np.testing.assert_allclose(run.outputs["y"], full.outputs["y"], rtol=0, atol=1e-15)
    grads, full_grads = run.backward(), full.backward()
    assert grads["x"].shape == (1, 3)
    np.testing.assert_allclose(grads["x"], full_grads["x"].sum(axis=0, keepdims=True),
                               rtol=1e-15)


@pytest.mark.parametrize(("name", "reference"), [
    ("batchnorm_spatial", spatial_batchnorm_forward),
    ("groupnorm", groupnorm_forward),
])
def test_spatial_graphs_take_one_sample_of_lower_rank(name: str, reference) -> None:
    x = rng.standard_normal((4, 3, 2))  # (C, H, W): one sample
    inputs = {"x": x, "gamma": rng.standard_normal(4), "beta": rng.standard_normal(4),
              "eps": 1e-5}
    run = bg.library.get(name).forward(inputs)
    batched = {**inputs, "x": x[np.newaxis]}
    expected = reference(**batched)[0] if name == "batchnorm_spatial" else reference(
        **batched, groups=2)[0]
    np.testing.assert_allclose(run.outputs["out"], expected, rtol=1e-12, atol=1e-12)
    assert run.backward()["x"].shape == (4, 3, 2)


def test_a_value_that_does_not_broadcast_names_the_input() -> None:
    g = bg.library.get("batchnorm_spatial")
    with pytest.raises(ShapeError, match="input 'gamma' has shape \\(3,\\)"):
        g.forward(x=np.ones((2, 4, 3, 3)), gamma=np.ones(3), beta=0.0)


# ---------------------------------------------------------------- empty and degenerate


def test_an_empty_batch_is_refused_with_a_message_saying_so() -> None:
    g = bg.library.get("batchnorm")
    with pytest.raises(ShapeError, match="node 'mu' \\(op mean.*no elements: is the batch empty"):
        g.forward(x=np.ones((0, 4)), gamma=1.0, beta=0.0)


def test_a_nan_output_is_reported_by_a_warning_naming_the_first_node() -> None:
    g = bg.library.get("batchnorm")
    constant = np.ones((3, 2))
    with np.errstate(all="ignore"), pytest.warns(
        NonFiniteWarning, match="the output out holds NaN.*node 'ivar' .*produced a non-finite"
    ):
        run = g.forward(x=constant, gamma=1.0, beta=0.0, eps=0.0)
    with np.errstate(all="ignore"), pytest.warns(NonFiniteWarning, match="gradients x, gamma"):
        run.backward()


def test_the_warning_names_a_node_whose_value_was_released() -> None:
    g = bg.parse("input x\nl = log(x)\ny = exp(l)\noutput y")  # l's value is not kept
    with np.errstate(all="ignore"), pytest.warns(
        NonFiniteWarning, match="node 'l' \\(op log\\) produced a non-finite forward value: nan"
    ):
        run = g.forward(x=np.array([1.0, -1.0]))
    assert "l" in run.released()


def test_a_gradient_that_only_the_backward_pass_breaks_names_the_rule() -> None:
    g = bg.parse("input x\nr = sqrt(x)\ny = r * 1\noutput y")
    run = g.forward(x=np.array([0.0, 4.0]))  # finite: sqrt(0) = 0
    with np.errstate(all="ignore"), pytest.warns(
        NonFiniteWarning, match="the gradient x holds .*node 'r' .*gradient for operand 0"
    ):
        run.backward()


def test_a_finite_run_warns_nothing() -> None:
    g = bg.library.get("batchnorm")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        grads = g.forward(**bg.library.example("batchnorm")).backward()
    assert all(np.isfinite(grad).all() for grad in grads.values())


def test_the_warning_points_at_the_callers_line() -> None:
    g = bg.parse("input x\ny = log(x)\noutput y")
    with np.errstate(all="ignore"), pytest.warns(NonFiniteWarning) as caught:
        g.forward(x=np.array([-1.0]))
    assert caught[0].filename == __file__


# ---------------------------------------------------------------- dtypes


@pytest.mark.parametrize("value", [np.array([1 + 2j]), 1j, np.ones(2, np.complex64)])
def test_complex_input_is_refused(value: object) -> None:
    g = bg.parse("input x\ny = x * 2\noutput y")
    with pytest.raises(InputError, match="input 'x' holds (a )?complex.*real gradients"):
        g.forward(x=value)


@pytest.mark.parametrize(("dtype", "computed"), [
    (np.int64, np.float64), (np.bool_, np.float64), (np.float16, np.float16),
    (np.float32, np.float32), (np.float64, np.float64),
])
def test_what_happens_to_every_dtype(dtype: type, computed: type) -> None:
    g = bg.parse("input x\ny = x * 2\noutput y")
    run = g.forward(x=np.ones(3, dtype))
    assert run.outputs["y"].dtype == computed and run.backward()["x"].dtype == computed


@pytest.mark.parametrize("text", [
    "y = broadcast_to(a, shape=(3,)) * x",
    "y = reshape(a, shape=(1,)) * x",
    "y = reshape_like(a, s) * x",
    "y = transpose(a) * x",
    "y = scaled_weak(a) * x",
])
def test_weak_numbers_stay_weak_through_every_op(text: str) -> None:
    bg.define_op("scaled_weak", lambda x: np.asarray(x) * 3, vjps=[lambda g, out, x: g * 3])
    g = bg.parse(f"input x[3]\ninput a = 2\ninput s = 0\n{text}\noutput y")
    run = g.forward(x=np.ones(3, np.float32))
    assert run.outputs["y"].dtype == np.float32
    assert run.backward()["x"].dtype == np.float32


# ---------------------------------------------------------------- edits after a run


def test_outputs_and_values_are_read_only() -> None:
    g = bg.parse("input x\ny = exp(x)\noutput y")  # exp's rule reads its own output
    run = g.forward(x=np.zeros(2))
    with pytest.raises(ValueError, match="read-only"):
        run.outputs["y"][0] = 100.0
    with pytest.raises(ValueError, match="read-only"):
        run.value("y")[0] = 100.0
    np.testing.assert_array_equal(run.backward()["x"], [1.0, 1.0])


def test_editing_an_input_after_forward_does_not_change_backward() -> None:
    g = bg.parse("input x\ninput w\ny = x * w\noutput y")  # mul's rules read both operands
    x, w = np.array([1.0, 2.0]), np.array([3.0, 4.0])
    run = g.forward(x=x, w=w)
    x[:] = 100.0
    w[:] = 100.0
    grads = run.backward()
    np.testing.assert_array_equal(grads["x"], [3.0, 4.0])
    np.testing.assert_array_equal(grads["w"], [1.0, 2.0])


# ---------------------------------------------------------------- names


def test_an_unknown_output_name_suggests_the_closest() -> None:
    run = bg.library.get("batchnorm").forward(**bg.library.example("batchnorm"))
    with pytest.raises(UnknownNameError, match="no output 'ot' \\(did you mean 'out'\\?\\)"):
        run.outputs["ot"]  # noqa: B018
    assert isinstance(run.outputs, dict) and issubclass(UnknownNameError, KeyError)
    assert issubclass(UnknownNameError, BngraphError)
    grads = run.backward()
    with pytest.raises(UnknownNameError, match="no input 'gama' \\(did you mean 'gamma'"):
        grads["gama"]  # noqa: B018
    assert sorted(grads) == ["beta", "eps", "gamma", "x"]
