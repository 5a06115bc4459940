"""The seed notebook's experiment, done right, and its two bugs caught by the toolkit.

The notebook built batch normalization from small forward/backward classes and
compared it with the staged tutorial version on x = arange(20) as 5x4, gamma = 2,
beta = 1, eps = 0.1, seeding backward with dout = out. Its check compared one
backward with itself. Here the two decompositions are compared properly, and the
notebook's two bugs are rebuilt as graphs with custom ops whose rules are wrong:

- its multiply hands each operand its own value (``dz * x1, dz * x2``);
- its centering adds the mean's gradient instead of subtracting it.
"""

import numpy as np
import pytest

import bngraph as bg
from bngraph import reference
from bngraph.notebook import notebook_graph, seed_data
from bngraph.testing import GradcheckError, compare, gradcheck


def closed_form(inputs):
    out, cache = reference.batchnorm_forward(inputs["x"], inputs["gamma"], inputs["beta"], inputs["eps"])
    return out, reference.batchnorm_backward(out, cache)  # dout = out, as in the notebook


def test_staged_composite_and_closed_form_agree_to_1e_12():
    inputs = seed_data()
    out, grads = closed_form(inputs)
    runs = {name: bg.library.get(name).forward(**inputs) for name in ("batchnorm", "batchnorm_composite")}
    for name, run in runs.items():
        got = run.backward(out)
        np.testing.assert_allclose(run.outputs["out"], out, rtol=0, atol=1e-12, err_msg=name)
        for key in ("x", "gamma", "beta", "eps"):
            np.testing.assert_allclose(got[key], grads[key], rtol=0, atol=1e-12, err_msg=f"{name} {key}")
    report = compare(bg.library.get("batchnorm"), bg.library.get("batchnorm_composite"), inputs,
                     {"out": out}, atol=1e-12, rtol=0)
    assert report.ok, str(report)


def test_the_notebook_graph_without_its_bugs_is_the_composite():
    inputs = seed_data()
    out, _ = closed_form(inputs)
    report = compare(notebook_graph("fixed"), bg.library.get("batchnorm_composite"), inputs,
                     {"out": out}, atol=1e-12, rtol=0)
    assert report.ok and report.first_divergence is None


def test_compare_catches_the_multiply_bug_and_names_the_node():
    inputs = seed_data()
    out, _ = closed_form(inputs)
    report = compare(notebook_graph("buggy", bad_multiply=True), bg.library.get("batchnorm_composite"),
                     inputs, {"out": out}, atol=1e-12, rtol=0)
    assert not report.ok and report.row("out", "output").ok  # forward right, backward wrong
    assert not report.row("x").ok and not report.row("gamma").ok
    # going backward, gamma_x_norm is the first multiply met: its own gradient is right,
    # the one it sends to x_norm is not
    assert report.first_divergence == (
        "node 'gamma_x_norm' (op notebook_mul, stage '5 scale'): its gradient agrees, "
        "but the gradient it sends to 'x_norm' differs")
    assert "they first part at node 'gamma_x_norm'" in str(report)


def test_compare_catches_the_centering_bug_and_names_the_node():
    inputs = seed_data()
    out, _ = closed_form(inputs)
    report = compare(notebook_graph("buggy", bad_center=True), bg.library.get("batchnorm_composite"),
                     inputs, {"out": out}, atol=1e-12, rtol=0)
    assert not report.row("x").ok and report.row("gamma").ok
    assert report.first_divergence == (
        "node 'xmu' (op notebook_center, stage '1 center'): its gradient agrees, "
        "but the gradient it sends to 'x' differs")


def test_gradcheck_catches_the_multiply_bug_and_names_both_multiplies():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(notebook_graph("buggy", bad_multiply=True), seed_data(), seed=0)
    suspects = [s.node for s in caught.value.report.suspects]
    assert set(suspects) == {"x_norm", "gamma_x_norm"}
    assert "node 'x_norm' (op notebook_mul, stage '4 normalize'), operand 0 ('xmu')" in str(caught.value)


def test_gradcheck_catches_the_centering_bug_and_names_the_node():
    with pytest.raises(GradcheckError) as caught:
        gradcheck(notebook_graph("buggy", bad_center=True), seed_data(), seed=0)
    report = caught.value.report
    assert [s.node for s in report.suspects] == ["xmu"]
    assert [r.input for r in report.rows if not r.ok] == ["x"]  # gamma, beta, eps unaffected


def test_the_notebook_figures_the_readme_quotes():
    """Both bugs together, compared properly on the seed data: dx off by up to 48.8 and,
    per feature, dgamma off by 0.031 (the README, "The demo")."""
    inputs = seed_data(gamma=np.full(4, 2.0))
    out, _ = closed_form(inputs)
    report = compare(notebook_graph("notebook", bad_multiply=True, bad_center=True),
                     bg.library.get("batchnorm_composite"), inputs, {"out": out})
    assert report.row("x").max_abs == pytest.approx(48.8, abs=0.05)
    assert report.row("gamma").max_abs == pytest.approx(0.031, abs=0.0005)
