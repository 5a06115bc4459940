"""Every library graph against its closed form, across shapes, dtypes and parameter shapes."""

import json

import numpy as np
import pytest

import bngraph as bg
from bngraph import library, reference
from bngraph.errors import ParamError, ShapeError
from bngraph.library import LibraryError

NORMALIZATIONS = ["batchnorm", "batchnorm_composite", "batchnorm_spatial", "layernorm", "groupnorm"]

# Shapes per graph, N from 1: one sample is defined everywhere (for the batch
# normalizations its batch variance is 0, eps keeps ivar finite and every
# output is beta), and several features, channels and pixel counts.
SHAPES = {
    "batchnorm": [(2, 1), (5, 4), (8, 3), (1, 3)],
    "batchnorm_composite": [(2, 1), (5, 4), (8, 3), (1, 3)],
    "batchnorm_spatial": [(2, 3, 2, 2), (1, 2, 3, 1), (4, 1, 2, 3)],
    "layernorm": [(1, 4), (3, 5), (6, 2)],
    "groupnorm": [(1, 2, 2, 2), (2, 4, 3, 3), (3, 6, 1, 2)],
}
CASES = [(name, shape) for name, shapes in SHAPES.items() for shape in shapes]

# Tolerances. float64: the graph and the closed form compute the same function in
# different orders; with these well-scaled inputs (|x| < ~10, ivar < ~300 at most)
# rounding stays below ~1e-13, so 1e-10 still catches any real error (which is of
# the size of the values). float32: the graph runs in float32 (weak scalars keep
# it there) and is compared with the float64 closed form on the same float32
# inputs; a few float32 roundings (eps 1.2e-7) amplified by ivar and the N-term
# sums give up to ~1e-5 relative, hence 2e-4.
TOL = {np.float64: {"rtol": 1e-10, "atol": 1e-10}, np.float32: {"rtol": 2e-4, "atol": 2e-4}}


LAYERS = ["softmax_cross_entropy", "mlp", "attention", "conv_bn_relu"]


def test_names_and_descriptions():
    assert library.names() == NORMALIZATIONS + LAYERS
    for name in library.names():
        line = library.describe(name)
        assert line and "\n" not in line and line.endswith(".")


@pytest.mark.parametrize("name", NORMALIZATIONS)
def test_get_is_frozen_cached_and_runs_its_example(name):
    g = library.get(name)
    assert g is library.get(name) and g.name == name
    assert set(g.inputs) == {"x", "gamma", "beta", "eps"} and g.outputs == ("out",)
    run = g.forward(**library.example(name))
    assert run.outputs["out"].shape == np.shape(library.example(name)["x"])


@pytest.mark.parametrize("name", NORMALIZATIONS)
def test_every_node_is_in_a_stage(name):
    g = library.get(name)
    assert all(spec.stage for spec in g.nodes if spec.op != "input")


def test_unknown_name_lists_the_library():
    with pytest.raises(LibraryError, match="did you mean 'layernorm'.*library graphs: batchnorm"):
        library.get("layernrom")


@pytest.mark.parametrize("name,shape", CASES)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("scalar_params", [False, True])
def test_graph_matches_closed_form(name, shape, dtype, scalar_params, norm_inputs, rng):
    inputs = norm_inputs(shape, dtype, scalar_params=scalar_params)
    run = library.get(name).forward(**inputs)
    out = run.outputs["out"]
    assert out.dtype == dtype
    dout = rng.standard_normal(out.shape).astype(dtype)
    grads = run.backward(dout)
    as64 = {k: np.asarray(v, dtype=np.float64) if not isinstance(v, float) else v for k, v in inputs.items()}
    ref_out, ref_grads = reference.closed_form(name, as64, dout.astype(np.float64))
    np.testing.assert_allclose(out, ref_out, **TOL[dtype])
    for key in ("x", "gamma", "beta", "eps"):
        assert grads[key].shape == np.shape(inputs[key]), key
        np.testing.assert_allclose(grads[key], ref_grads[key], err_msg=key, **TOL[dtype])


@pytest.mark.parametrize("name", NORMALIZATIONS)
def test_gradcheck(name, norm_inputs, rng):
    shape = SHAPES[name][1]
    report = bg.testing.gradcheck(library.get(name), norm_inputs(shape), seed=int(rng.integers(2**31)))
    assert report.ok and [r.input for r in report.rows] == ["x", "gamma", "beta", "eps"]
    json.dumps(report.to_dict())


@pytest.mark.parametrize("name", NORMALIZATIONS)
def test_gradcheck_scalar_params(name, norm_inputs):
    report = bg.testing.gradcheck(library.get(name), norm_inputs(SHAPES[name][0], scalar_params=True), seed=3)
    assert report.ok


def test_composite_follows_the_notebook_steps():
    ops = [spec.op for spec in library.get("batchnorm_composite").nodes if spec.op != "input"]
    assert ops == ["mean", "broadcast_like", "sub", "pow", "mean", "add", "pow", "pow",
                   "broadcast_like", "mul", "broadcast_like", "mul", "broadcast_like", "add"]
    g = library.get("batchnorm_composite")
    pow_op = bg.ops.get_op("pow")
    exponents = [pow_op.full_params(g.spec(n).params)["exponent"] for n in ("xmu2", "std", "istd")]
    assert exponents == [2, 0.5, -1]


def test_composite_and_staged_agree(norm_inputs):
    report = bg.testing.assert_graphs_match(
        library.get("batchnorm"), library.get("batchnorm_composite"), norm_inputs((6, 3)),
        atol=1e-12, rtol=1e-10)
    assert report.ok and report.first_divergence is None and len(report.rows) == 5


def test_groupnorm_params_and_build():
    assert library.params("groupnorm") == {"groups": 2}
    assert library.params("batchnorm") == {}
    g = library.build("groupnorm", groups=3)
    assert g is not library.get("groupnorm") and g.spec("xg").params["parts"] == 3


@pytest.mark.parametrize("groups", [1, 2, 3, 6])
def test_groupnorm_groups_match_closed_form(groups, norm_inputs, rng):
    inputs = norm_inputs((2, 6, 2, 3))
    run = library.build("groupnorm", groups=groups).forward(**inputs)
    dout = rng.standard_normal(run.outputs["out"].shape)
    grads = run.backward(dout)
    out, ref = reference.closed_form("groupnorm", inputs, dout, groups=groups)
    np.testing.assert_allclose(run.outputs["out"], out, **TOL[np.float64])
    for key in ref:
        np.testing.assert_allclose(grads[key], ref[key], err_msg=key, **TOL[np.float64])


def test_groupnorm_channels_must_split_into_the_groups():
    with pytest.raises(ShapeError, match=r"node 'xg' \(op split_axis, stage '1 group'\).*3 equal parts"):
        library.build("groupnorm", groups=3).forward(x=np.zeros((1, 4, 2, 2)), gamma=1.0, beta=0.0)


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_groupnorm_refuses_bad_groups(bad):
    with pytest.raises(ParamError, match="groups must be a positive int"):
        library.build("groupnorm", groups=bad)


def test_build_refuses_unknown_parameters():
    with pytest.raises(ParamError, match="did you mean 'groups'.*its parameters: groups"):
        library.build("groupnorm", grups=2)
    with pytest.raises(ParamError, match="its parameters: none"):
        library.build("batchnorm", groups=2)


def test_spatial_gamma_per_channel_shape_is_checked():
    with pytest.raises(ShapeError, match="gamma"):
        library.get("batchnorm_spatial").forward(x=np.zeros((2, 3, 2, 2)), gamma=np.ones(4), beta=0.0)
