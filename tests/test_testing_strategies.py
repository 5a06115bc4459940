"""Hypothesis strategies, and a property: every library graph matches its closed form."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import bngraph as bg
from bngraph import reference
from bngraph.errors import BngraphError
from bngraph.testing import strategies
from bngraph.testing.strategies import HypothesisMissing, norm_input_sets, norm_shapes

KINDS = ["batchnorm", "batchnorm_composite", "batchnorm_spatial", "layernorm", "groupnorm"]


@settings(max_examples=30, deadline=None)
@given(st.data())
def test_shapes_fit_their_graph(data):
    kind = data.draw(st.sampled_from(KINDS))
    shape = data.draw(norm_shapes(kind))
    if kind in ("batchnorm_spatial", "groupnorm"):
        assert len(shape) == 4 and (kind != "groupnorm" or shape[1] % 2 == 0)
    else:
        assert len(shape) == 2
    assert shape[0] >= (1 if kind in ("layernorm", "groupnorm") else 2)


@settings(max_examples=25, deadline=None)
@given(st.data())
def test_every_graph_matches_its_closed_form(data):
    kind = data.draw(st.sampled_from(KINDS))
    inputs = data.draw(norm_input_sets(kind))
    run = bg.library.get(kind).forward(**inputs)
    dout = np.cos(np.arange(run.outputs["out"].size)).reshape(run.outputs["out"].shape)
    grads = run.backward(dout)
    out, ref = reference.closed_form(kind, inputs, dout)
    # float64, well-scaled inputs: see the tolerance note in test_library.py
    np.testing.assert_allclose(run.outputs["out"], out, rtol=1e-10, atol=1e-10)
    for key in ref:
        np.testing.assert_allclose(grads[key], ref[key], rtol=1e-10, atol=1e-10, err_msg=key)


@settings(max_examples=10, deadline=None)
@given(norm_input_sets("layernorm", np.float32))
def test_dtype_is_kept(inputs):
    assert inputs["x"].dtype == np.float32


def test_unknown_kind():
    with pytest.raises(BngraphError, match="no normalization kind 'softmax'; kinds: batchnorm"):
        norm_shapes("softmax")


def test_without_hypothesis_the_strategies_say_so(monkeypatch):
    monkeypatch.setattr(strategies, "st", None)
    with pytest.raises(HypothesisMissing, match="needs hypothesis"):
        norm_shapes()
    assert issubclass(HypothesisMissing, ImportError)
