"""compare and assert_graphs_match: differences by output and gradient, in abs, rel and ulp."""

import json

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import NonFiniteError
from bngraph.testing import CompareError, GraphsDifferError, assert_graphs_match, compare
from bngraph.testing.compare import difference


def _affine(name, scale):
    g = bg.Graph(name)
    x, w = g.input("x"), g.input("w")
    with g.stage("1 scale"):
        y = (x * w).named("y")
    with g.stage("2 shift"):
        out = (y * scale + 1.0).named("out")
    g.output(out)
    return g


INPUTS = {"x": np.array([1.0, 2.0, 3.0]), "w": np.array([0.5, 0.5, 2.0])}


def test_identical_graphs_have_zero_differences():
    report = compare(_affine("a", 2.0), _affine("b", 2.0), INPUTS)
    assert report.ok and report.first_divergence is None
    assert [(r.kind, r.name) for r in report.rows] == [("output", "out"), ("gradient", "x"), ("gradient", "w")]
    assert all(r.max_abs == 0 and r.max_ulp == 0 for r in report.rows)


def test_a_difference_is_measured_and_located():
    report = compare(_affine("a", 2.0), _affine("b", 2.0 + 1e-3), INPUTS, seed_grads="ones")
    out = report.row("out", "output")
    # out differs by 1e-3 * x * w, largest at index 2: 1e-3 * 6
    assert out.max_abs == pytest.approx(6e-3, rel=1e-9) and out.worst_index == (2,)
    assert report.row("x").max_abs == pytest.approx(2e-3, rel=1e-9)  # 1e-3 * w
    assert not report.ok
    # y = x * w agrees; y * scale (auto-named mul_2: mul_1 was renamed y) is the first value to differ
    assert report.first_divergence == "node 'mul_2' (op mul, stage '2 shift'): its forward values differ"


def test_ulp_relative_and_tolerances():
    one_ulp = np.nextafter(1.0, 2.0)
    d = difference("output", "y", np.array([1.0, 2.0]), np.array([one_ulp, 2.0]), atol=0, rtol=0)
    assert d.max_ulp == 1.0 and d.max_rel == pytest.approx(2.0**-52, rel=1e-12) and not d.ok
    assert difference("output", "y", np.array([1.0]), np.array([one_ulp]), atol=0, rtol=1e-15).ok
    # float32 against float64: ulps of float32 (the coarser one)
    d32 = difference("output", "y", np.float32([1.0]), np.array([1.0 + 2.0**-23]), atol=1, rtol=0)
    assert d32.max_ulp == 1.0 and d32.ok


def test_shape_mismatch_is_a_difference():
    d = difference("output", "y", np.zeros(2), np.zeros(3), atol=1, rtol=1)
    assert not d.ok and d.max_abs == np.inf


def test_assert_graphs_match_raises_with_the_report():
    with pytest.raises(GraphsDifferError) as caught:
        assert_graphs_match(_affine("a", 2.0), _affine("b", 3.0), INPUTS)
    text = str(caught.value)
    assert "graphs 'a' and 'b' DIFFER" in text and "max ulp" in text and "NO" in text
    assert isinstance(caught.value, AssertionError) and not caught.value.report.ok
    assert assert_graphs_match(_affine("a", 2.0), _affine("b", 2.0), INPUTS).ok


def test_report_to_dict_is_json():
    report = compare(bg.library.get("batchnorm"), bg.library.get("batchnorm_composite"),
                     bg.library.example("batchnorm"))
    data = json.loads(json.dumps(report.to_dict()))
    assert data["ok"] is True and data["first_graph"] == "batchnorm"
    assert {r["name"] for r in data["rows"]} == {"out", "x", "gamma", "beta", "eps"}
    shared = {r["name"] for r in data["nodes"]}
    assert {"mu", "xmu", "var"} <= shared


def test_graphs_with_different_inputs_cannot_be_compared():
    g = bg.Graph("other")
    g.output((g.input("x") * 2.0).named("out"))
    with pytest.raises(CompareError, match="different inputs: x, w against x"):
        compare(_affine("a", 2.0), g, INPUTS)


def test_seed_grads_given_by_name():
    seeds = {"out": np.array([1.0, 0.0, 0.0])}
    report = compare(_affine("a", 2.0), _affine("b", 2.0 + 1e-3), INPUTS, seeds)
    assert report.row("x").worst_index == (0,)
    with pytest.raises(CompareError, match="seed_grads must be"):
        compare(_affine("a", 2.0), _affine("b", 2.0), INPUTS, seed_grads="zeros")


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns, then the check names the node
def test_non_finite_is_reported_with_the_node():
    g1, g2 = bg.Graph("l1"), bg.Graph("l2")
    for g in (g1, g2):
        with g.stage("1 log"):
            g.output(bg.log(g.input("x"), name="out"))
    with pytest.raises(NonFiniteError, match=r"node 'out' \(op log, stage '1 log'\)"):
        compare(g1, g2, {"x": np.array([-1.0])})


def _shapes_graph(name, text):
    return bg.parse(f"graph {name}\ninput x[N]\n{text}\noutput y")


def test_outputs_of_different_shapes_say_so_with_both_shapes():
    """It printed `inf inf inf () nan nan NO` and then compared gradients seeded with a
    seed broadcast to the other output's shape (or raised a ShapeError from backward)."""
    doubled, summed = _shapes_graph("doubled", "y = x * 2"), _shapes_graph("summed", "y = sum(x)")
    cases = [(summed, doubled, ("()", "(3,)")), (doubled, summed, ("(3,)", "()"))]
    for first, second, shapes in cases:
        report = compare(first, second, {"x": np.arange(3.0)})
        text = str(report)
        assert not report.ok and [r.name for r in report.rows] == ["y"]  # no gradient compared
        assert (f"output 'y': the shapes differ, {shapes[0]} in {first.name!r} against "
                f"{shapes[1]} in {second.name!r}") in text
        assert f"shape {shapes[0]}" in text and "inf" not in text and "nan" not in text
        assert "gradients not compared: the outputs differ in shape" in text
        said = f"its shapes differ, {shapes[0]} against {shapes[1]}"
        assert report.first_divergence.endswith(said)
        row = report.to_dict()["rows"][0]
        assert row["first_shape"] == list(first.forward(x=np.arange(3.0)).outputs["y"].shape)
        assert row["max_abs"] is None
        json.dumps(report.to_dict(), allow_nan=False)  # valid JSON: no inf or nan


def test_shared_nodes_of_different_shapes_show_both_shapes():
    kept = _shapes_graph("kept", "z = sum(x, keepdims=True)\ny = x * z")
    dropped = _shapes_graph("dropped", "z = sum(x)\ny = x * z")
    report = compare(kept, dropped, {"x": np.arange(3.0)})
    assert report.ok  # the outputs and gradients agree; one intermediate differs in shape
    text = str(report)
    assert "value 'z': the shapes differ, (1,) in 'kept' against () in 'dropped'" in text
    assert "inf" not in text
    assert report.first_divergence == "node 'z' (op sum): its shapes differ, (1,) against ()"
