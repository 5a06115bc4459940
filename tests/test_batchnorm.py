"""The nine-stage BatchNorm on the seed notebook's data, against the closed form."""

from __future__ import annotations

import numpy as np
import pytest
from numeric import numeric_gradient

import bngraph as bg
from bngraph.reference import batchnorm_backward, batchnorm_forward

# float64 on values of order 1..20: every difference from the closed form is a few
# ulps (≈1e-15); 1e-12 leaves three orders of margin and catches any wrong rule.
TOLERANCE = 1e-12


def seed_run() -> tuple[bg.Run, dict[str, np.ndarray], dict]:
    g = bg.library.get("batchnorm")
    inputs = bg.library.example("batchnorm")
    run = g.forward(inputs)
    return run, run.backward(run.outputs["out"]), inputs


def test_node_names_and_stages_are_the_nine_stages() -> None:
    g = bg.library.get("batchnorm")
    named = [n for n in g.names if not n.startswith("add_")]
    assert named == ["x", "gamma", "beta", "eps", "mu", "xmu", "sq", "var", "sqrtvar", "ivar",
                     "xhat", "gammax", "out"]
    assert g.stages == ("1 mean", "2 center", "3 square", "4 variance", "5 std", "6 invert",
                        "7 normalize", "8 scale", "9 shift")
    assert g.spec("sqrtvar").stage == "5 std" and g.spec("add_1").stage == "5 std"


def test_seed_data_matches_the_closed_form_in_outputs_and_all_gradients() -> None:
    run, grads, inputs = seed_run()
    expected_out, cache = batchnorm_forward(**inputs)
    expected = batchnorm_backward(run.outputs["out"], cache)
    np.testing.assert_allclose(run.outputs["out"], expected_out, rtol=0, atol=TOLERANCE)
    for name in ("x", "gamma", "beta", "eps"):
        assert grads[name].shape == np.shape(inputs[name])
        np.testing.assert_allclose(grads[name], expected[name], rtol=0, atol=TOLERANCE)


def test_seed_data_values_are_the_notebooks() -> None:
    run, grads, _ = seed_run()
    # the tutorial's forward, by hand: rows of x differ by 4, so xhat is the same per column
    xhat_row = (np.arange(5) * 4 - 8) / np.sqrt(32 + 0.1)
    np.testing.assert_allclose(run.outputs["out"], (2 * xhat_row + 1)[:, None] * np.ones(4),
                               atol=TOLERANCE)
    assert grads["beta"].item() == pytest.approx(20.0, abs=TOLERANCE)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_per_feature_parameters_against_the_closed_form(dtype: type) -> None:
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((7, 5)) * 3 + 1).astype(dtype)
    gamma, beta = rng.standard_normal(5).astype(dtype), rng.standard_normal(5).astype(dtype)
    dout = rng.standard_normal((7, 5)).astype(dtype)
    run = bg.library.get("batchnorm").forward(x=x, gamma=gamma, beta=beta, eps=1e-3)
    grads = run.backward(dout)
    out, cache = batchnorm_forward(x.astype(np.float64), gamma.astype(np.float64),
                                   beta.astype(np.float64), 1e-3)
    expected = batchnorm_backward(dout.astype(np.float64), cache)
    # float32: each of the ~20 roundings is 6e-8 relative; 1e-4 absolute on values of
    # order 1..10 is ample and still far below any mistake (which is of order 1)
    atol = 1e-4 if dtype == np.float32 else TOLERANCE
    assert run.outputs["out"].dtype == dtype and grads["x"].dtype == dtype
    np.testing.assert_allclose(run.outputs["out"], out, atol=atol, rtol=0)
    for name in ("x", "gamma", "beta"):
        np.testing.assert_allclose(grads[name], expected[name], atol=atol, rtol=0)


def test_gradients_match_central_differences() -> None:
    g = bg.library.get("batchnorm")
    rng = np.random.default_rng(5)
    inputs = {"x": rng.standard_normal((4, 3)), "gamma": rng.standard_normal(3),
              "beta": rng.standard_normal(3), "eps": 0.5}
    dout = rng.standard_normal((4, 3))
    grads = g.forward(inputs).backward(dout)
    for name in ("x", "gamma", "beta"):
        def loss(v: np.ndarray, name: str = name) -> float:
            return float(np.sum(g.forward({**inputs, name: v}).outputs["out"] * dout))

        np.testing.assert_allclose(grads[name], numeric_gradient(loss, inputs[name]),
                                   atol=1e-7, rtol=1e-6)
