"""The BatchNorm layer: running statistics in both conventions over several steps,
evaluation mode as its own graph, and every argument error.

The expected running statistics are computed here from their defining formulas
written as weighted sums over the batches (not as the layer's step-by-step
update), with numpy's own mean and var(ddof=...)."""

import numpy as np
import pytest

import bngraph as bg
from bngraph import reference
from bngraph.errors import ShapeError
from bngraph.layers import LayerError

STEPS = 5


def _batches(rng, shape, count=STEPS):
    return [rng.standard_normal(shape) * (1 + k) + k for k in range(count)]


def _torch_expected(batches, momentum, axes):
    """running_k = (1-m)^k * start + sum_i m (1-m)^(k-i) * stat_i (stat: unbiased var)."""
    k = len(batches)
    weights = [momentum * (1 - momentum) ** (k - 1 - i) for i in range(k)]
    mean = sum(w * b.mean(axis=axes) for w, b in zip(weights, batches, strict=True))
    var = (1 - momentum) ** k * 1.0 + sum(
        w * b.var(axis=axes, ddof=1) for w, b in zip(weights, batches, strict=True))
    return mean, var


def _cs231n_expected(batches, momentum, axes):
    """running_k = sum_i (1-m) m^(k-i) * stat_i, starting from 0 (stat: biased var)."""
    k = len(batches)
    weights = [(1 - momentum) * momentum ** (k - 1 - i) for i in range(k)]
    mean = sum(w * b.mean(axis=axes) for w, b in zip(weights, batches, strict=True))
    var = sum(w * b.var(axis=axes) for w, b in zip(weights, batches, strict=True))
    return mean, var


def _train(layer, batches):
    for batch in batches:
        layer.forward(batch)


# running statistics are sums of five weighted float64 batch statistics:
# agreement to a few ulps of values of O(10), hence 1e-12
TOL = {"rtol": 1e-12, "atol": 1e-12}


@pytest.mark.parametrize("momentum", [0.1, 0.5, 1.0, 0.0])
def test_torch_running_statistics(momentum, rng):
    batches = _batches(rng, (6, 3))
    layer = bg.BatchNorm(3, momentum=momentum)
    _train(layer, batches)
    mean, var = _torch_expected(batches, momentum, (0,))
    np.testing.assert_allclose(layer.running_mean, mean, **TOL)
    np.testing.assert_allclose(layer.running_var, var, **TOL)
    assert layer.num_batches_tracked == STEPS


def test_torch_cumulative_average(rng):
    batches = _batches(rng, (4, 2))
    layer = bg.BatchNorm(2, momentum=None)
    _train(layer, batches)
    np.testing.assert_allclose(layer.running_mean, np.mean([b.mean(axis=0) for b in batches], axis=0), **TOL)
    np.testing.assert_allclose(layer.running_var, np.mean([b.var(axis=0, ddof=1) for b in batches], axis=0), **TOL)


@pytest.mark.parametrize("momentum", [0.9, 0.3])
def test_cs231n_running_statistics(momentum, rng):
    batches = _batches(rng, (5, 4))
    layer = bg.BatchNorm(4, momentum=momentum, convention="cs231n")
    _train(layer, batches)
    mean, var = _cs231n_expected(batches, momentum, (0,))
    np.testing.assert_allclose(layer.running_mean, mean, **TOL)
    np.testing.assert_allclose(layer.running_var, var, **TOL)


def test_starting_values_and_default_momenta():
    torch, cs = bg.BatchNorm(3), bg.BatchNorm(3, convention="cs231n")
    assert torch.momentum == 0.1 and cs.momentum == 0.9
    np.testing.assert_array_equal(torch.running_mean, np.zeros(3))
    np.testing.assert_array_equal(torch.running_var, np.ones(3))
    np.testing.assert_array_equal(cs.running_var, np.zeros(3))
    assert torch.training and torch.num_batches_tracked == 0


@pytest.mark.parametrize("convention", ["torch", "cs231n"])
def test_spatial_running_statistics(convention, rng):
    batches = _batches(rng, (3, 2, 2, 3))
    layer = bg.BatchNorm(2, convention=convention, spatial=True)
    _train(layer, batches)
    expected = _torch_expected if convention == "torch" else _cs231n_expected
    mean, var = expected(batches, layer.momentum, (0, 2, 3))
    np.testing.assert_allclose(layer.running_mean, mean, **TOL)
    np.testing.assert_allclose(layer.running_var, var, **TOL)


@pytest.mark.parametrize("convention", ["torch", "cs231n"])
def test_training_output_and_gradients_are_batchnorms(convention, rng):
    layer = bg.BatchNorm(3, eps=1e-3, convention=convention)
    layer.gamma, layer.beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    x = rng.standard_normal((7, 3))
    run = layer.forward(x)
    dout = rng.standard_normal((7, 3))
    grads = run.backward(dout)
    out, cache = reference.batchnorm_forward(x, layer.gamma, layer.beta, 1e-3)
    ref = reference.batchnorm_backward(dout, cache)
    np.testing.assert_allclose(run.outputs["out"], out, rtol=1e-12, atol=1e-12)
    for key in ("x", "gamma", "beta"):
        np.testing.assert_allclose(grads[key], ref[key], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("convention", ["torch", "cs231n"])
@pytest.mark.parametrize("spatial", [False, True])
def test_evaluation_uses_running_statistics(convention, spatial, rng):
    shape = (4, 3, 2, 2) if spatial else (6, 3)
    layer = bg.BatchNorm(3, convention=convention, spatial=spatial)
    layer.gamma, layer.beta = rng.uniform(0.5, 2, 3), rng.standard_normal(3)
    _train(layer, _batches(rng, shape, 3))
    before = (layer.running_mean.copy(), layer.running_var.copy(), layer.num_batches_tracked)
    layer.eval()
    x = rng.standard_normal(shape)
    run = layer.forward(x)
    assert run.graph.name == ("batchnorm_spatial_eval" if spatial else "batchnorm_eval")
    per_channel = (-1, 1, 1) if spatial else (-1,)
    scale = layer.gamma.reshape(per_channel) / np.sqrt(layer.running_var.reshape(per_channel) + layer.eps)
    expected = (x - layer.running_mean.reshape(per_channel)) * scale + layer.beta.reshape(per_channel)
    np.testing.assert_allclose(run.outputs["out"], expected, rtol=1e-12, atol=1e-12)
    # evaluation mode has its own gradients: an affine map of x, channel by channel
    dout = rng.standard_normal(shape)
    grads = run.backward(dout)
    np.testing.assert_allclose(grads["x"], dout * scale, rtol=1e-12, atol=1e-12)
    assert set(grads) == {"x", "running_mean", "running_var", "gamma", "beta", "eps"}
    assert bg.testing.gradcheck(run.graph, {"x": x, "running_mean": layer.running_mean,
                                            "running_var": layer.running_var, "gamma": layer.gamma,
                                            "beta": layer.beta, "eps": layer.eps}, seed=1).ok
    # ... and leaves the statistics alone
    assert (layer.running_mean.tolist(), layer.running_var.tolist(), layer.num_batches_tracked) == \
        (before[0].tolist(), before[1].tolist(), before[2])


def test_train_and_eval_switch_modes_and_return_the_layer():
    layer = bg.BatchNorm(2)
    assert layer.eval() is layer and not layer.training
    assert layer.train() is layer and layer.training
    assert layer.train(False) is layer and not layer.training


def test_float32_stays_float32(rng):
    layer = bg.BatchNorm(3)
    x = rng.standard_normal((4, 3)).astype(np.float32)
    assert layer.forward(x).outputs["out"].dtype == np.float32
    assert layer.eval().forward(x).outputs["out"].dtype == np.float32


def test_reset_running_stats(rng):
    layer = bg.BatchNorm(2)
    _train(layer, _batches(rng, (3, 2), 2))
    layer.reset_running_stats()
    assert layer.num_batches_tracked == 0 and layer.running_var.tolist() == [1.0, 1.0]


def test_one_sample_in_training(rng):
    with pytest.raises(LayerError, match="more than one value per channel.*unbiased.*shape \\(1, 3\\)"):
        bg.BatchNorm(3).forward(np.ones((1, 3)))
    with pytest.raises(LayerError, match="more than one value per channel"):
        bg.BatchNorm(3, spatial=True).forward(np.ones((1, 3, 1, 1)))
    # the cs231n convention keeps the biased variance, which one sample defines (0)
    layer = bg.BatchNorm(3, convention="cs231n")
    layer.forward(np.full((1, 3), 2.0))
    np.testing.assert_allclose(layer.running_mean, [0.2, 0.2, 0.2], rtol=1e-15)
    # and in evaluation mode one sample is fine with either convention
    assert bg.BatchNorm(3).eval().forward(np.ones((1, 3))).outputs["out"].shape == (1, 3)


@pytest.mark.parametrize("momentum", [-0.1, 1.5, float("nan"), "0.1", True])
def test_momentum_outside_zero_one(momentum):
    with pytest.raises(LayerError, match="momentum must be a number in \\[0, 1\\] or None"):
        bg.BatchNorm(3, momentum=momentum)


def test_cumulative_average_is_torch_only():
    with pytest.raises(LayerError, match="momentum=None .* only in the torch convention"):
        bg.BatchNorm(3, momentum=None, convention="cs231n")


def test_unknown_convention_lists_the_conventions():
    with pytest.raises(LayerError, match="unknown convention 'keras'; conventions: torch, cs231n"):
        bg.BatchNorm(3, convention="keras")


@pytest.mark.parametrize("num_features", [0, -2, 2.5, True])
def test_num_features_must_be_a_positive_int(num_features):
    with pytest.raises(LayerError, match="num_features must be a positive int"):
        bg.BatchNorm(num_features)


@pytest.mark.parametrize("eps", [-1e-5, float("inf"), "1e-5"])
def test_eps_must_be_finite_and_not_negative(eps):
    with pytest.raises(LayerError, match="eps must be a finite number >= 0"):
        bg.BatchNorm(3, eps=eps)


def test_num_features_mismatch():
    with pytest.raises(ShapeError, match="BatchNorm\\(3\\) got x of shape \\(4, 5\\): axis 1 has 5 features, not 3"):
        bg.BatchNorm(3).forward(np.zeros((4, 5)))
    with pytest.raises(ShapeError, match="axis 1 has 4 features, not 3"):
        bg.BatchNorm(3, spatial=True).forward(np.zeros((2, 4, 2, 2)))


def test_wrong_number_of_dimensions():
    with pytest.raises(ShapeError, match="takes x of shape \\(N, C\\), not an array of shape \\(2, 3, 4\\)"):
        bg.BatchNorm(3).forward(np.zeros((2, 3, 4)))
    with pytest.raises(ShapeError, match="\\(spatial\\) takes x of shape \\(N, C, H, W\\)"):
        bg.BatchNorm(3, spatial=True).forward(np.zeros((2, 3)))


def test_errors_are_in_the_family():
    assert issubclass(LayerError, bg.BngraphError) and issubclass(LayerError, ValueError)


def test_repr():
    assert repr(bg.BatchNorm(3)) == (
        "BatchNorm(3, eps=1e-05, momentum=0.1, convention='torch', spatial=False) in training mode")
