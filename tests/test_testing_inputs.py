"""The normalization inputs shared by the fixture and the strategies."""

import numpy as np
import pytest

from bngraph.testing.inputs import norm_inputs, param_shape


def test_param_shape():
    assert param_shape((5, 4)) == (4,) and param_shape((2, 3, 4, 4)) == (3,) and param_shape((7,)) == (7,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_shapes_dtypes_and_ranges(dtype):
    inputs = norm_inputs(np.random.default_rng(1), (6, 3, 2, 2), dtype)
    assert inputs["x"].shape == (6, 3, 2, 2) and inputs["x"].dtype == dtype
    assert inputs["gamma"].dtype == dtype and np.all((inputs["gamma"] >= 0.5) & (inputs["gamma"] <= 1.5))
    assert np.all(np.abs(inputs["beta"]) <= 1) and inputs["eps"] == 1e-5


def test_same_generator_state_same_inputs():
    a = norm_inputs(np.random.default_rng(3), (4, 2))
    b = norm_inputs(np.random.default_rng(3), (4, 2))
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])


def test_scalar_params_are_weak_numbers():
    inputs = norm_inputs(np.random.default_rng(0), (4, 2), np.float32, scalar_params=True, eps=0.1)
    assert (inputs["gamma"], inputs["beta"], inputs["eps"]) == (1.0, 0.0, 0.1)
    assert type(inputs["gamma"]) is float
