"""The library's layers (softmax cross-entropy, the perceptron, attention, the conv
block) against their closed forms in ``bngraph.reference``, on their examples and
on random inputs, with labels, masks and the scale as constants."""

from __future__ import annotations

import numpy as np
import pytest

import bngraph as bg
from bngraph import library, reference

LAYERS = ["softmax_cross_entropy", "mlp", "attention", "conv_bn_relu"]

# float64 throughout: the graph and the closed form compute the same function in
# different orders (matrix products, sums over a few dozen terms, a batch norm's
# ivar of order 10): rounding stays below 1e-12 relative; 1e-10 catches any error.
TOL = {"rtol": 1e-10, "atol": 1e-10}


def random_inputs(name: str, rng: np.random.Generator) -> dict[str, np.ndarray]:
    n = 6
    if name == "softmax_cross_entropy":
        return {"logits": rng.standard_normal((n, 5)) * 3, "labels": rng.integers(0, 5, n)}
    if name == "mlp":
        return {"x": rng.standard_normal((n, 4)), "w1": rng.standard_normal((4, 7)),
                "b1": rng.standard_normal(7), "w2": rng.standard_normal((7, 3)),
                "b2": rng.standard_normal(3), "labels": rng.integers(0, 3, n)}
    if name == "attention":
        mask = (rng.random((5, 3)) < 0.7).astype(float)
        mask[:, 0] = 1.0  # every query sees at least one key
        return {"q": rng.standard_normal((2, 5, 4)), "k": rng.standard_normal((2, 3, 4)),
                "v": rng.standard_normal((2, 3, 4)), "mask": mask, "scale": 0.5}
    return {"x": rng.standard_normal((3, 2, 5, 4)), "w": rng.standard_normal((4, 2, 3, 3)),
            "gamma": rng.standard_normal(4), "beta": rng.standard_normal(4), "eps": 1e-5}


def check_against_closed_form(name: str, inputs: dict, rng: np.random.Generator) -> None:
    graph = library.get(name)
    run = graph.forward(inputs)
    (output,) = graph.outputs
    out = run.outputs[output]
    dout = rng.standard_normal(np.shape(out))
    grads = run.backward(dout)
    expected_out, expected = reference.closed_form(name, inputs, dout)
    np.testing.assert_allclose(out, expected_out, **TOL)
    for key, value in expected.items():
        assert grads[key].shape == np.shape(inputs[key]), key
        np.testing.assert_allclose(grads[key], value, err_msg=key, **TOL)


@pytest.mark.parametrize("name", LAYERS)
def test_example_matches_closed_form(name, rng):
    check_against_closed_form(name, library.example(name), rng)


@pytest.mark.parametrize("name", LAYERS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_random_inputs_match_closed_form(name, seed):
    rng = np.random.default_rng(seed)
    check_against_closed_form(name, random_inputs(name, rng), rng)


def test_cross_entropy_is_finite_where_exp_overflows():
    inputs = library.example("softmax_cross_entropy")
    inputs["logits"] = inputs["logits"] * 1000
    run = library.get("softmax_cross_entropy").forward(inputs, check_finite=True)
    assert np.isfinite(run.outputs["loss"])
    assert np.isfinite(run.backward(check_finite=True)["logits"]).all()


def test_attention_mask_hides_keys_exactly(rng):
    inputs = random_inputs("attention", rng)
    run = library.get("attention").forward(inputs, keep_values=True)
    weights = run.value("weights")
    assert np.all(weights[:, inputs["mask"] == 0] == 0.0)
    np.testing.assert_allclose(weights.sum(axis=-1), 1.0, rtol=1e-15)


def test_conv_block_keeps_the_image_size_and_its_channels_are_normalized():
    run = library.get("conv_bn_relu").forward(library.example("conv_bn_relu"), keep_values=True)
    bn = run.value("bn")
    beta = library.example("conv_bn_relu")["beta"]
    np.testing.assert_allclose(bn.mean(axis=(0, 2, 3)), beta, atol=1e-12)
    assert run.outputs["out"].shape == (2, 3, 4, 4)


@pytest.mark.parametrize("name", LAYERS)
def test_gradcheck_with_constants_unperturbed(name, rng):
    graph = library.get(name)
    inputs = random_inputs(name, rng)
    report = bg.testing.gradcheck(graph, inputs, seed=int(rng.integers(2**31)))
    assert report.ok
    assert [row.input for row in report.rows] == [n for n in graph.inputs if n not in graph.constants]


def test_labels_masks_and_scale_are_constants_and_get_no_gradient():
    expected = {"softmax_cross_entropy": ("labels",), "mlp": ("labels",),
                "attention": ("mask", "scale"), "conv_bn_relu": ()}
    for name, constants in expected.items():
        graph = library.get(name)
        assert graph.constants == constants
        grads = graph.forward(library.example(name)).backward()
        assert not set(constants) & set(grads) and set(grads) | set(constants) == set(graph.inputs)


def test_integer_labels_stay_integers_through_the_graph():
    run = library.get("mlp").forward(library.example("mlp"), keep_values=True)
    assert run.value("labels").dtype.kind == "i" and run.value("index").dtype.kind == "i"
