"""The closed forms, checked against central differences of their own forwards and
against each other where two normalizations coincide."""

import numpy as np
import pytest
from numeric import numeric_gradient

from bngraph import reference
from bngraph.library import LibraryError

FORMS = {
    "batchnorm": (5, 3),
    "batchnorm_spatial": (3, 2, 2, 2),
    "layernorm": (3, 4),
    "groupnorm": (2, 4, 2, 1),
}


def _out(name, inputs):
    return reference.closed_form(name, inputs)[0]


@pytest.mark.parametrize("name", FORMS)
@pytest.mark.parametrize("scalar", [False, True])
def test_backward_matches_central_differences(name, scalar, norm_inputs, rng):
    inputs = norm_inputs(FORMS[name], scalar_params=scalar)
    dout = rng.standard_normal(FORMS[name])
    _, grads = reference.closed_form(name, inputs, dout)
    for key in ("x", "gamma", "beta", "eps"):
        def f(value, key=key):
            return float(np.sum(dout * _out(name, {**inputs, key: value})))
        numeric = numeric_gradient(f, np.asarray(inputs[key], dtype=np.float64))
        # central differences with h = 1e-6 on a smooth function of O(1) values:
        # truncation ~h^2 and rounding ~1e-16/h, so agreement to ~1e-8
        np.testing.assert_allclose(grads[key], numeric, rtol=1e-6, atol=1e-7, err_msg=key)


def test_spatial_with_one_pixel_is_batchnorm(norm_inputs, rng):
    inputs = norm_inputs((6, 3))
    dout = rng.standard_normal((6, 3))
    out2, g2 = reference.closed_form("batchnorm", inputs, dout)
    spatial = {**inputs, "x": inputs["x"].reshape(6, 3, 1, 1)}
    out4, g4 = reference.closed_form("batchnorm_spatial", spatial, dout.reshape(6, 3, 1, 1))
    np.testing.assert_allclose(out4.reshape(6, 3), out2, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(g4["x"].reshape(6, 3), g2["x"], rtol=1e-12, atol=1e-13)
    for key in ("gamma", "beta", "eps"):
        np.testing.assert_allclose(g4[key], g2[key], rtol=1e-12, atol=1e-13)


def test_layernorm_is_batchnorm_of_the_transpose(norm_inputs, rng):
    inputs = norm_inputs((4, 5), scalar_params=True)
    dout = rng.standard_normal((4, 5))
    out, grads = reference.closed_form("layernorm", inputs, dout)
    out_t, grads_t = reference.closed_form("batchnorm", {**inputs, "x": inputs["x"].T}, dout.T)
    np.testing.assert_allclose(out, out_t.T, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grads["x"], grads_t["x"].T, rtol=1e-12, atol=1e-13)


def test_groupnorm_with_one_group_is_layernorm_of_the_flattened_sample(norm_inputs, rng):
    inputs = norm_inputs((3, 2, 2, 2), scalar_params=True)
    dout = rng.standard_normal((3, 2, 2, 2))
    out, grads = reference.closed_form("groupnorm", inputs, dout, groups=1)
    flat = {**inputs, "x": inputs["x"].reshape(3, 8)}
    out_l, grads_l = reference.closed_form("layernorm", flat, dout.reshape(3, 8))
    np.testing.assert_allclose(out.reshape(3, 8), out_l, rtol=1e-13, atol=1e-13)
    np.testing.assert_allclose(grads["x"].reshape(3, 8), grads_l["x"], rtol=1e-12, atol=1e-13)


def test_batchnorm_closed_form_keeps_its_signature():
    x = np.arange(20.0).reshape(5, 4)
    out, cache = reference.batchnorm_forward(x, 2.0, 1.0, 0.1)
    grads = reference.batchnorm_backward(out, cache)
    same_out, same = reference.closed_form("batchnorm", {"x": x, "gamma": 2.0, "beta": 1.0, "eps": 0.1}, out)
    np.testing.assert_array_equal(out, same_out)
    for key in grads:
        np.testing.assert_array_equal(grads[key], same[key])


def test_unknown_closed_form():
    with pytest.raises(LibraryError, match="no closed form for 'softmax'; there is one for: batchnorm"):
        reference.closed_form("softmax", {"x": np.zeros(2), "gamma": 1.0, "beta": 0.0})


def test_groupnorm_refuses_channels_that_do_not_split():
    with pytest.raises(ValueError, match="3 channels do not split into 2 groups"):
        reference.groupnorm_forward(np.zeros((1, 3, 1, 1)), 1.0, 0.0, 1e-5, 2)
