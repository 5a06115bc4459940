"""Constant inputs (grad=False): declared in Python and in .bng, printed back, kept
as integers, given no gradient, never perturbed by gradcheck, visible in the IR."""

from __future__ import annotations

import json

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import ParamError

TEXT = """graph pick

input x[N, K]
input labels[N] const
input scale = 0.5 const
index = expand_dims(labels, axis=1)
picked = take_along_axis(x, index, axis=1)
y = picked * scale

output y
"""


def _built() -> bg.Graph:
    g = bg.Graph("pick")
    x = g.input("x", shape=("N", "K"))
    labels = g.input("labels", shape=("N",), grad=False)
    scale = g.input("scale", default=0.5, grad=False)
    index = bg.expand_dims(labels, axis=1, name="index")
    picked = bg.take_along_axis(x, index, axis=1, name="picked")
    g.output((picked * scale).named("y"))
    return g


def test_python_and_text_spellings_are_the_same_graph_and_print_back():
    g = _built()
    assert g.to_dsl() == TEXT
    assert bg.dsl.same_graph(bg.parse(TEXT), g)
    assert bg.dsl.same_graph(bg.from_json(g.to_json()), g)
    assert g.constants == ("labels", "scale")
    assert g.signature() == "x[N, K], labels[N] const, scale = 0.5 const"


def test_the_ir_marks_constants_for_drawings():
    nodes = _built().to_networkx().nodes
    assert nodes["labels"]["params"]["grad"] is False
    assert "grad" not in nodes["x"]["params"]
    document = json.loads(_built().to_json())
    assert {n["id"]: n["params"].get("grad") for n in document["nodes"]}["labels"] is False


def test_backward_gives_constants_no_gradient_and_integers_stay_integers():
    g = _built()
    labels = np.array([2, 0, 1])
    run = g.forward(x=np.arange(9.0).reshape(3, 3), labels=labels, keep_values=True)
    assert run.value("labels").dtype == labels.dtype and run.value("index").dtype == labels.dtype
    assert run.outputs["y"].tolist() == [[1.0], [1.5], [3.5]]
    grads = run.backward()
    assert sorted(grads) == ["x"]
    assert grads["x"].tolist() == [[0, 0, 0.5], [0.5, 0, 0], [0, 0.5, 0]]
    assert [g.names[i] for i, c in enumerate(g.plan.constant) if c] == ["labels", "scale", "index"]


def test_nothing_flows_into_a_node_computed_from_constants_alone():
    seen = []
    spy = bg.define_op("constant_spy", lambda x: x * 1.0,
                       vjps=[lambda g, out, x: seen.append("called") or g])
    g = bg.Graph("g")
    x = g.input("x")
    c = g.input("c", grad=False)
    g.output((x * spy(c)).named("y"))
    assert sorted(g.forward(x=np.ones(2), c=np.ones(2)).backward()) == ["x"] and seen == []


def test_gradcheck_never_perturbs_a_constant(rng):
    g = _built()
    inputs = {"x": rng.standard_normal((4, 3)), "labels": np.array([0, 2, 2, 1])}
    report = bg.testing.gradcheck(g, inputs, seed=0)
    assert report.ok and [row.input for row in report.rows] == ["x"]
    assert bg.testing.check_nodes(g, inputs, seed=0)  # rules checked, constants skipped


def test_compare_skips_constants(rng):
    inputs = {"x": rng.standard_normal((4, 3)), "labels": np.array([0, 2, 2, 1])}
    report = bg.testing.compare(_built(), bg.parse(TEXT), inputs)
    assert report.ok


def test_a_constant_float_array_stays_as_given_and_bools_become_numbers():
    g = bg.Graph("g")
    x = g.input("x")
    m = g.input("m", grad=False)
    g.output(bg.where(m, x, 0.0, name="y"))
    run = g.forward(x=np.array([1.0, 2.0]), m=np.array([True, False]))
    assert run.outputs["y"].tolist() == [1.0, 0.0] and run.backward()["x"].tolist() == [1.0, 0.0]


@pytest.mark.parametrize("bad", [0, 1, "no", None])
def test_grad_must_be_a_bool(bad):
    with pytest.raises(ParamError, match="grad must be True or False"):
        bg.Graph("g").input("x", grad=bad)


def test_text_spelling_details():
    g = bg.parse("input const\ninput c[] const  # a comment\ny = const * c\noutput y")
    assert g.constants == ("c",) and g.spec("c").params["shape"] == ()
    with pytest.raises(bg.DSLSyntaxError) as caught:  # one const, at the end
        bg.parse("input x const const\ny = -x\noutput y")
    assert (caught.value.line, caught.value.column) == (1, 9)
