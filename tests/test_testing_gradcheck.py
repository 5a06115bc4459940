"""gradcheck: passes right rules, fails wrong ones with a table, names the suspect node."""

import json

import numpy as np
import pytest

import bngraph as bg
from bngraph.errors import NonFiniteError
from bngraph.testing import GradcheckError, check_nodes, gradcheck


def _cube_graph(factor, name):
    """y = x**3 whose rule is off by ``factor``: a controlled error."""
    cube = bg.define_op(name, lambda x: x ** 3, vjps=[lambda g, out, x: g * 3 * x ** 2 * factor],
                        saves=[0], replace=True)
    g = bg.Graph(name)
    x = g.input("x", shape=("N",))
    with g.stage("1 cube"):
        y = cube(x, name="y")
    g.output((y * 2.0).named("z"))
    return g


X = np.array([0.5, -1.0, 2.0])


def test_passes_a_right_rule_and_returns_the_report():
    report = gradcheck(_cube_graph(1.0, "tg_cube_right"), {"x": X}, seed=0)
    assert report.ok and report.rows[0].input == "x" and report.rows[0].checked == 3
    assert report.rows[0].max_abs < 1e-8  # central differences of a cubic: truncation ~ eps**2


def test_tolerances_mean_what_they_say():
    """A rule off by a relative 1e-4 passes rtol=1e-3 and fails rtol=1e-5."""
    g = _cube_graph(1 + 1e-4, "tg_cube_close")
    assert gradcheck(g, {"x": X}, seed=0, atol=0, rtol=1e-3).ok
    with pytest.raises(GradcheckError):
        gradcheck(g, {"x": X}, seed=0, atol=0, rtol=1e-5)


def test_failure_table_names_input_index_values_and_node():
    g = _cube_graph(2.0, "tg_cube_wrong")
    with pytest.raises(GradcheckError) as caught:
        gradcheck(g, {"x": X}, seed=0)
    report, text = caught.value.report, str(caught.value)
    assert not report.ok and isinstance(caught.value, AssertionError)
    for column in ("input", "max abs err", "max rel err", "worst index", "analytic", "numeric"):
        assert column in text
    row = report.rows[0]
    # the worst entry is where |3 x^2 v| is largest: x = 2, index (2,)
    assert row.worst_index == (2,) and not row.ok
    assert row.analytic == pytest.approx(2 * row.numeric, rel=1e-6)
    assert "node 'y' (op tg_cube_wrong, stage '1 cube'), operand 0 ('x')" in text
    assert [s.node for s in report.suspects] == ["y"]
    json.dumps(report.to_dict())


def test_fast_mode_catches_the_same_error_with_projections():
    g = _cube_graph(2.0, "tg_cube_fast")
    with pytest.raises(GradcheckError, match="random projections") as caught:
        gradcheck(g, {"x": X}, seed=0, fast=True)
    assert caught.value.report.rows[0].checked == 3
    assert gradcheck(_cube_graph(1.0, "tg_cube_fast_ok"), {"x": X}, seed=0, fast=True).ok


def test_fast_mode_on_a_large_input(rng):
    """2 * projections forward runs per input instead of 2 per entry."""
    x = rng.standard_normal((256, 64))
    report = gradcheck(bg.library.get("batchnorm"), {"x": x, "gamma": np.ones(64), "beta": np.zeros(64)},
                       fast=True, projections=4, seed=1)
    assert report.ok and report.rows[0].checked == 4


def test_defaulted_inputs_are_checked_too():
    report = gradcheck(bg.library.get("batchnorm"), {"x": np.arange(6.0).reshape(3, 2), "gamma": 1.0,
                                                     "beta": 0.0}, seed=2)
    assert [r.input for r in report.rows] == ["x", "gamma", "beta", "eps"]


def test_same_seed_same_report():
    inputs = bg.library.example("layernorm")
    first = gradcheck(bg.library.get("layernorm"), inputs, seed=5, fast=True).to_dict()
    assert gradcheck(bg.library.get("layernorm"), inputs, seed=5, fast=True).to_dict() == first


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns, then the check names the node
def test_non_finite_forward_names_the_first_node():
    g = bg.Graph("nf")
    x = g.input("x")
    with g.stage("1 log"):
        y = bg.log(x, name="y")
    g.output((y * 2.0).named("z"))
    with pytest.raises(NonFiniteError, match=r"node 'y' \(op log, stage '1 log'\).*forward value"):
        gradcheck(g, {"x": np.array([1.0, -1.0])})


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # numpy warns, then the check names the node
def test_non_finite_gradient_names_the_node():
    g = bg.Graph("nfg")
    x = g.input("x")
    with g.stage("1 root"):
        y = bg.sqrt(x, name="y")
    g.output(y)
    with pytest.raises(NonFiniteError, match=r"node 'y' \(op sqrt, stage '1 root'\).*gradient"):
        gradcheck(g, {"x": np.array([1.0, 0.0])})


def test_check_nodes_covers_every_operand():
    g = bg.library.get("batchnorm")
    checks = check_nodes(g, bg.library.example("batchnorm"), seed=0)
    assert all(c.ok for c in checks)
    expected = sum(1 for s in g.nodes if s.op != "input" for o in s.operands if isinstance(o, str))
    assert len(checks) == expected


def test_str_of_a_passing_report():
    text = str(gradcheck(_cube_graph(1.0, "tg_cube_str"), {"x": X}, seed=0))
    assert text.startswith("gradcheck of graph 'tg_cube_str' passed (every entry; eps=1e-06")
    assert "x      " in text and "yes" in text


def test_without_a_seed_it_is_reproducible_and_prints_its_seed(bngraph_seed):
    """It drew fresh projections on every call (seed=None); under pytest it now takes the
    test's seed, and the report says which."""
    g, inputs = bg.library.get("layernorm"), bg.library.example("layernorm")
    first = gradcheck(g, inputs, fast=True)
    assert first.seed == bngraph_seed
    assert gradcheck(g, inputs, fast=True).to_dict() == first.to_dict()
    assert gradcheck(g, inputs, fast=True, seed=bngraph_seed).to_dict() == first.to_dict()
    assert gradcheck(g, inputs, fast=True, seed=bngraph_seed + 1).to_dict() != first.to_dict()
    assert f"seed={bngraph_seed})" in str(first)


def test_outside_pytest_the_default_seed_is_fixed():
    import subprocess
    import sys

    script = ("import bngraph as bg\n"
              "g, inputs = bg.library.get('layernorm'), bg.library.example('layernorm')\n"
              "r = bg.testing.gradcheck(g, inputs, fast=True)\n"
              "print(r.seed, r.to_dict()['rows'][0]['analytic'])\n")
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           timeout=120, check=True).stdout for _ in range(2)]
    assert runs[0] == runs[1] and runs[0].startswith("0 ")


def test_the_report_says_what_the_node_numbers_are():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(_cube_graph(2.0, "tg_cube_explained"), {"x": X}, seed=0)
    text = str(caught.value)
    assert "a random projection, not the gradient shown above" in text
    assert "u . vjp(v) against the central difference of v . forward along u" in text
