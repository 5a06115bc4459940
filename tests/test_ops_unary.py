"""The unary functions and activations: values against Python's math module applied
entry by entry, gradients against central differences, and PyTorch's conventions
at the points where a derivative is not defined (abs and relu at 0, clip's bounds)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from op_checks import check_op, vjp

import bngraph as bg


def entrywise(f):
    return lambda x: np.vectorize(f, otypes=[np.float64])(x)


def _sigmoid(v: float) -> float:
    return 1 / (1 + math.exp(-v)) if v >= 0 else math.exp(v) / (1 + math.exp(v))


def _softplus(v: float, beta: float = 1.0, threshold: float = 20.0) -> float:
    return v if beta * v > threshold else math.log1p(math.exp(beta * v)) / beta


def _gelu_tanh(v: float) -> float:
    return 0.5 * v * (1 + math.tanh(math.sqrt(2 / math.pi) * (v + 0.044715 * v ** 3)))


# (op, params, reference on floats): all differentiable away from 0
CASES = [
    ("abs", {}, abs),
    ("sign", {}, lambda v: math.copysign(1.0, v) if v else 0.0),
    ("sin", {}, math.sin),
    ("cos", {}, math.cos),
    ("exp2", {}, lambda v: 2.0 ** v),
    ("log1p", {}, math.log1p),
    ("expm1", {}, math.expm1),
    ("erf", {}, math.erf),
    ("sigmoid", {}, _sigmoid),
    ("softplus", {}, _softplus),
    ("softplus", {"beta": 2.0, "threshold": 1.0}, lambda v: _softplus(v, 2.0, 1.0)),
    ("gelu", {}, lambda v: 0.5 * v * (1 + math.erf(v / math.sqrt(2)))),
    ("gelu", {"approximate": "tanh"}, _gelu_tanh),
    ("clip", {"lo": -0.5, "hi": 0.7}, lambda v: min(max(v, -0.5), 0.7)),
    ("clip", {"lo": -0.5}, lambda v: max(v, -0.5)),
    ("clip", {"hi": 0.2}, lambda v: min(v, 0.2)),
]


@pytest.mark.parametrize(("op_name", "params", "reference"), CASES,
                         ids=[f"{c[0]}-{k}" for k, c in enumerate(CASES)])
def test_values_and_gradients(op_name, params, reference, rng):
    # entries of either sign, none within 0.05 of 0 or of a clip bound (kinks)
    x = rng.uniform(0.1, 1.5, size=(3, 4)) * rng.choice([-1.0, 1.0], size=(3, 4))
    x[np.abs(np.abs(x) - 0.5) < 0.05] += 0.1
    x[np.abs(x - 0.7) < 0.05] += 0.1
    x[np.abs(x - 0.2) < 0.05] += 0.1
    if op_name == "log1p":
        x = np.abs(x) - 0.05  # inside its domain, x > -1
    check_op(op_name, params, [x], entrywise(reference), rng=rng, value_tol={"rtol": 1e-14, "atol": 1e-15})


def test_softplus_switches_to_x_above_the_threshold_as_pytorch():
    x = np.array([19.0, 21.0, -800.0, 800.0])
    y = bg.ops.get_op("softplus").forward(x)
    assert y[1] == 21.0 and y[3] == 800.0 and y[2] == 0.0  # no overflow at either end
    np.testing.assert_allclose(y[0], math.log1p(math.exp(19.0)), rtol=1e-15)
    grads = vjp("softplus", {}, [x], np.ones(4))[0]
    np.testing.assert_allclose(grads, [_sigmoid(19.0), 1.0, 0.0, 1.0], rtol=1e-15)


def test_sigmoid_does_not_overflow():
    y = bg.ops.get_op("sigmoid").forward(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(y, [0.0, 0.5, 1.0])


@pytest.mark.parametrize("op_name,expected", [("abs", 0.0), ("relu", 0.0), ("sign", 0.0)])
def test_gradient_at_zero_is_zero_as_pytorch(op_name, expected):
    assert vjp(op_name, {}, [np.zeros(3)], np.ones(3))[0].tolist() == [expected] * 3


def test_clip_passes_the_gradient_at_its_bounds_as_torch_clamp():
    x = np.array([-2.0, -1.0, 0.0, 1.0, 2.0])
    assert vjp("clip", {"lo": -1.0, "hi": 1.0}, [x], np.ones(5))[0].tolist() == [0, 1, 1, 1, 0]
    # lo > hi: every value is hi and no gradient passes, as torch.clamp
    y = bg.ops.get_op("clip").forward(x, 1.0, -1.0)
    assert y.tolist() == [-1.0] * 5
    assert vjp("clip", {"lo": 1.0, "hi": -1.0}, [x], np.ones(5))[0].tolist() == [0] * 5


def test_clip_takes_its_bounds_positionally_and_needs_one():
    g = bg.Graph("g")
    x = g.input("x")
    assert dict(bg.clip(x, 0, 6).params) == {"lo": 0, "hi": 6}
    g.output(bg.clip(x, name="y"))
    with pytest.raises(bg.errors.OpError, match="needs at least one bound"):
        g.forward(x=np.ones(2))


def test_gelu_approximate_is_a_choice():
    g = bg.Graph("g")
    with pytest.raises(bg.errors.ParamError, match="approximate='erf' is not one of 'none', 'tanh'"):
        bg.gelu(g.input("x"), approximate="erf")


@pytest.mark.parametrize("name", ["abs", "sign", "sin", "cos", "exp2", "log1p", "expm1", "erf",
                                  "sigmoid", "softplus", "gelu"])
def test_float32_stays_float32(name):
    g = bg.Graph(name)
    g.output(bg.ops.get_op(name)(g.input("x"), name="y"))
    run = g.forward(x=np.linspace(0.1, 1.0, 4, dtype=np.float32))
    assert run.outputs["y"].dtype == np.float32
    assert run.backward()["x"].dtype == np.float32


def test_text_takes_positional_parameters_and_choices_and_prints_keywords():
    g = bg.parse('input x[N]\ny = clip(x, 0, 6)\nz = gelu(y, approximate="tanh")\noutput z')
    text = g.to_dsl()
    assert 'y = clip(x, lo=0, hi=6)' in text and 'z = gelu(y, approximate="tanh")' in text
    assert bg.parse(text).to_dsl() == text
    with pytest.raises(bg.DSLSyntaxError, match=r"approximate='erf' is not one of 'none', 'tanh'"):
        bg.parse('input x\ny = gelu(x, approximate="erf")\noutput y')
    with pytest.raises(bg.DSLSyntaxError, match="parameter axis= takes a literal"):
        bg.parse('input x\ny = softmax(x, axis="0")\noutput y')
