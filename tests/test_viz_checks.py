"""Checks painted on the graph: gradcheck's verdict on every node, and two graphs
compared side by side."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from svg_drawing import drawn, svg_of

import bngraph as bg
from bngraph.notebook import notebook_graph, seed_data
from bngraph.testing import GradcheckError, compare, gradcheck
from bngraph.viz import compare_graphviz, render_compare, to_graphviz
from bngraph.viz.measure import readability
from bngraph.viz.render import pipe
from bngraph.viz.style import AGREE_COLOR, DISAGREE_COLOR, FIRST_DIFFERENCE_COLOR, UNCHECKED_COLOR


def notebook_case() -> tuple[bg.Graph, bg.Graph, dict[str, np.ndarray], np.ndarray]:
    """The seed notebook's graph with both its bugs, the composite graph, their data, dout."""
    inputs = seed_data(gamma=np.full(4, 2.0))
    buggy = notebook_graph("notebook", bad_multiply=True, bad_center=True)
    composite = bg.library.get("batchnorm_composite")
    return buggy, composite, inputs, composite.forward(inputs).outputs["out"]


def outline(node) -> str:
    return node.stroke


# ---------------------------------------------------------------------- gradcheck


@pytest.mark.dot
def test_a_failing_gradcheck_paints_the_nodes_whose_rules_are_wrong() -> None:
    buggy, _, inputs, dout = notebook_case()
    with pytest.raises(GradcheckError) as caught:
        gradcheck(buggy, inputs, seed=0)
    report = caught.value.report
    suspects = {s.node for s in report.suspects}
    assert suspects == {"xmu", "x_norm", "gamma_x_norm"}  # the centering and the multiplies
    run = buggy.forward(inputs, keep_values=True)
    run.backward(dout)
    for check in (caught.value, report):  # the error, or the report it carries
        nodes = drawn(svg_of(to_graphviz(buggy, run, "backward", check=check)), "node")
        for name in buggy.names:
            node = nodes[name]
            if name in suspects:
                assert outline(node) == DISAGREE_COLOR and node.rows[0].startswith("✗ "), name
                assert "its rules DISAGREE with central differences" in node.tooltip
                assert "analytic" in node.tooltip and "numeric" in node.tooltip
            elif name in buggy.inputs:
                row = next(r for r in report.rows if r.input == name)
                assert outline(node) == (AGREE_COLOR if row.ok else DISAGREE_COLOR), name
            else:
                assert outline(node) == AGREE_COLOR and node.rows[0].startswith("✓ "), name
    dot = to_graphviz(buggy, run, "backward", check=report).source
    assert "rules disagree with central differences" in dot  # the legend says so


@pytest.mark.dot
def test_a_passing_gradcheck_leaves_the_ops_not_checked_on_their_own(tmp_path: Path) -> None:
    g = bg.library.get("batchnorm")
    report = gradcheck(g, bg.library.example("batchnorm"), seed=0)
    nodes = drawn(svg_of_file(bg.render(g, tmp_path / "bn.svg", check=report)), "node")
    assert {outline(nodes[n]) for n in g.inputs} == {AGREE_COLOR}
    assert {outline(nodes[n]) for n in g.names if n not in g.inputs} == {UNCHECKED_COLOR}
    assert "not checked on its own (every input's gradient agrees)" in nodes["xmu"].tooltip
    assert "the gradient of x agrees with central differences" in nodes["x"].tooltip


# ---------------------------------------------------------------------- comparing


@pytest.mark.dot
def test_two_graphs_side_by_side_with_their_first_parting_marked(tmp_path: Path) -> None:
    buggy, composite, inputs, dout = notebook_case()
    report = compare(buggy, composite, inputs, {"out": dout})
    assert not report.ok and report.first_divergence.startswith("node 'gamma_x_norm'")
    root = svg_of(compare_graphviz(buggy, composite, report))
    nodes = drawn(root, "node")
    assert set(nodes) == {f"1:{n}" for n in buggy.names} | {f"2:{n}" for n in composite.names}
    first = nodes["1:gamma_x_norm"]
    assert outline(first) == FIRST_DIFFERENCE_COLOR and outline(nodes["2:gamma_x_norm"]) == (
        FIRST_DIFFERENCE_COLOR)
    assert first.tooltip.startswith("gamma_x_norm = ")
    assert "the graphs first part here: node 'gamma_x_norm'" in first.tooltip
    # each differing node says by how much: its largest abs, rel and ulp difference
    x_row = report.row("x")
    tip = nodes["1:x"].tooltip
    assert outline(nodes["1:x"]) == DISAGREE_COLOR
    assert "gradient DIFFERS: max abs" in tip and "max ulp" in tip
    assert f"max abs {bg.formatting.format_number(x_row.max_abs)}" in tip
    assert outline(nodes["1:out"]) == AGREE_COLOR  # the forward values agree
    assert outline(nodes["2:mu"]) == UNCHECKED_COLOR  # the notebook has no mu
    # nodes that correspond sit side by side, on one rank
    for name in ("x", "xmu", "var", "gamma_x_norm", "out"):
        assert nodes[f"1:{name}"].center[1] == pytest.approx(nodes[f"2:{name}"].center[1]), name
        assert nodes[f"1:{name}"].center[0] < nodes[f"2:{name}"].center[0]
    r = readability(pipe(compare_graphviz(buggy, composite, report), "svg"), shown_width=1000)
    assert r.readable, str(r)


@pytest.mark.dot
def test_render_compare_and_the_command_line(tmp_path: Path) -> None:
    g1, g2 = bg.library.get("batchnorm"), bg.library.get("batchnorm_composite")
    path = render_compare(g1, g2, bg.library.example("batchnorm"), tmp_path / "same.svg")
    root = svg_of_file(path)
    colours = {outline(n) for n in drawn(root, "node").values()}
    assert DISAGREE_COLOR not in colours and FIRST_DIFFERENCE_COLOR not in colours
    done = subprocess.run(
        [sys.executable, "-m", "bngraph", "compare", "batchnorm", "batchnorm_composite",
         "--render", str(tmp_path / "diff.svg"), "--json"],
        capture_output=True, text=True, check=True,
    )
    assert json.loads(done.stdout)["picture"] == str(tmp_path / "diff.svg")
    assert (tmp_path / "diff.svg").read_text().startswith("<?xml")
    bad = subprocess.run(
        [sys.executable, "-m", "bngraph", "compare", "batchnorm", "batchnorm_composite",
         "--render", str(tmp_path / "diff.jpeg")],
        capture_output=True, text=True,
    )
    assert bad.returncode == 2 and ".svg, .png, .pdf, .dot" in bad.stderr
    assert "Traceback" not in bad.stderr


def svg_of_file(path: str):
    import xml.etree.ElementTree as ET

    return ET.parse(path).getroot()


@pytest.mark.dot
def test_the_demo_draws_the_notebook_bugs(tmp_path: Path) -> None:
    import io

    from bngraph.demo import run_demo

    assert run_demo(io.StringIO(), tmp_path) == 0
    painted = drawn(svg_of_file(str(tmp_path / "notebook_gradcheck.svg")), "node")
    assert outline(painted["x_norm"]) == DISAGREE_COLOR
    both = drawn(svg_of_file(str(tmp_path / "notebook_against_composite.svg")), "node")
    assert outline(both["1:gamma_x_norm"]) == FIRST_DIFFERENCE_COLOR
