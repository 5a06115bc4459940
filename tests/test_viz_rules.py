"""The chain rule on the edges, and operands that never get a gradient."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from library_runs import example_run
from svg_drawing import drawn, svg_of

import bngraph as bg
from bngraph.viz import render_steps, to_graphviz
from bngraph.viz.style import BACKWARD_COLOR, SHAPE_EDGE_COLOR
from bngraph.viz.summary import brief
from bngraph.viz.timeline import timeline

# ---------------------------------------------------------------------- rules on edges


@pytest.mark.dot
def test_each_backward_edge_reads_its_local_rule_with_the_operands_filled_in() -> None:
    run = example_run("batchnorm")
    edges = drawn(svg_of(to_graphviz(run.graph, run, "backward", rules=True)), "edge")
    contributions = {(c, k): g for n in run.graph.names for c, k, g in run.contributions(n)}
    # xhat = xmu × ivar: the gradient to xmu is g × ivar, the one to ivar g × xmu
    assert edges["∑ xmu->xhat"].rows == ["g × ivar", brief(contributions["xhat", 0], mean=False)]
    assert edges["ivar->xhat"].rows[0] == "g × xmu"
    assert edges["add_1->sqrtvar"].rows[0] == "g ÷ (2·sqrtvar)"
    assert "by the rule g × ivar" in edges["∑ xmu->xhat"].tooltip
    # every edge that carries a gradient says by which rule
    for title, edge in edges.items():
        if title.startswith(("seed", "xmu->∑", "x->∑")) or "seed" in title:
            continue
        assert edge.rows and edge.rows[0] != "vjp", title
    # without a run there is no value, only the rule
    plain = drawn(svg_of(to_graphviz(run.graph, view="backward", rules=True)), "edge")
    assert plain["∑ xmu->xhat"].rows == ["g × ivar"]
    assert "with the local rule on each backward edge" in to_graphviz(
        run.graph, view="backward", rules=True).source
    # off by default
    assert "g × ivar" not in to_graphviz(run.graph, run, "backward").source


def test_an_op_without_rule_texts_shows_vjp() -> None:
    cube = bg.define_op("viz_test_cube", lambda x: x**3,
                        vjps=[lambda g, out, x: 3 * g * x**2], replace=True)
    g = bg.Graph("cube")
    g.output(cube(g.input("x"), name="y"))
    run = g.forward(keep_values=True, x=np.array([1.0, 2.0]))
    run.backward()
    assert '"x" -> "y" [dir=back color="#cc0000" fontcolor="#cc0000" label=<vjp<BR/>[3, 12]>' in (
        to_graphviz(g, run, "backward", rules=True).source
    )


def test_rule_texts_given_to_define_op_are_drawn() -> None:
    square = bg.define_op("viz_test_square", lambda x: x * x, vjps=[lambda g, out, x: 2 * g * x],
                          rules=["2·g·{0}"], replace=True)
    g = bg.Graph("square")
    g.output(square(g.input("a"), name="y"))
    assert "label=<2·g·a>" in to_graphviz(g, view="backward", rules=True).source


@pytest.mark.dot
def test_render_and_the_command_line_take_rules(tmp_path: Path) -> None:
    run = example_run("batchnorm")
    dot = Path(bg.render(run, tmp_path / "bn.dot", view="backward", rules=True)).read_text()
    assert "label=<g × ivar<BR/>" in dot
    done = subprocess.run(
        [sys.executable, "-m", "bngraph", "render", "batchnorm", "--example", "--view",
         "backward", "--rules", "-o", str(tmp_path / "cli.dot")],
        capture_output=True, text=True, check=True,
    )
    assert "wrote" in done.stdout
    assert "label=<g × ivar<BR/>" in (tmp_path / "cli.dot").read_text()


@pytest.mark.dot
def test_the_viewer_shows_the_rule_of_each_backward_step(tmp_path: Path) -> None:
    run = example_run("batchnorm")
    t = timeline(run)
    step = t.steps[t.grad_at["xhat"]]
    assert step.caption == "xhat = xmu × ivar, g = ∂L/∂xhat: sends xmu ← g × ivar; ivar ← g × xmu"
    page = Path(render_steps(run, tmp_path)).read_text("utf-8")
    assert "sends xmu ← g × ivar; ivar ← g × xmu" in page


# ---------------------------------------------------------------------- no gradient


@pytest.mark.dot
def test_an_operand_read_only_for_its_shape_gets_a_dotted_edge_and_no_gradient() -> None:
    run = example_run("groupnorm")
    g = run.graph
    # reshape_like(xhat_g, x) reads x only for its shape
    assert [c for c, _, _ in run.contributions("x")] == ["xg"]
    root = svg_of(to_graphviz(g, run, "both"))
    nodes, edges = drawn(root, "node"), drawn(root, "edge")
    assert "∑ x" not in nodes  # one gradient reaches x: nothing is summed there
    assert [e.title for e in drawn(root, "edge", stroke=BACKWARD_COLOR).values()
            if e.title.endswith("->xhat")] == ["xhat_g->xhat"]
    shape_edge = edges["x->xhat"]
    assert shape_edge.stroke == SHAPE_EDGE_COLOR
    assert shape_edge.element.find(".//{http://www.w3.org/2000/svg}path").get(
        "stroke-dasharray") == "1,5"
    assert "read only for its shape or as indices: it gets no gradient" in shape_edge.tooltip
    assert "summed" not in nodes["x"].tooltip
    dot = to_graphviz(g, run, "backward").source
    assert '"x" -> "xhat" [color="#707070" style=dotted' in dot
    assert "shape, index or constant operand: no gradient" in dot  # in the legend


def test_a_constant_gets_no_gradient_edge() -> None:
    g = bg.Graph("scaled")
    x = g.input("x")
    scale = g.input("scale", grad=False)
    g.output((x * scale).named("y"))
    run = g.forward(keep_values=True, x=np.ones(3), scale=np.full(3, 2.0))
    run.backward()
    dot = to_graphviz(g, run, "backward").source
    assert '"x" -> "y" [dir=back' in dot and '"scale" -> "y" [dir=back' not in dot
    scale = next(line for line in dot.splitlines() if line.strip().startswith('"scale" ['))
    assert "grad " not in scale
    # the constant stays tied to its consumer: dotted, as an operand with no gradient
    edge = next(line for line in dot.splitlines() if line.strip().startswith('"scale" -> "y"'))
    assert "style=dotted" in edge and "a constant: it gets no gradient" in edge
    assert "shape, index or constant operand: no gradient" in dot
    assert "constant operand" not in to_graphviz(g, run, "forward").source
