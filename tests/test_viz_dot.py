"""DOT and SVG drawings of graphs and runs: conventions, numbers, determinism, escaping."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from library_runs import example_run
from svg_drawing import SVG, assert_summary, drawn, svg_of

import bngraph as bg
from bngraph.ops import format_shape
from bngraph.reference import batchnorm_backward, batchnorm_forward
from bngraph.viz import VizError, to_graphviz
from bngraph.viz.escape import quote_id
from bngraph.viz.labels import formula
from bngraph.viz.render import pipe
from bngraph.viz.style import BACKWARD_COLOR, SAVED_FILL
from bngraph.viz.summary import brief, full_text, summarize


def lean_run() -> bg.Run:
    """The default run: values the backward pass does not read are released early."""
    g = bg.library.get("batchnorm")
    run = g.forward(**bg.library.example("batchnorm"))
    run.backward(run.outputs["out"])
    return run


# ---------------------------------------------------------------------- conventions


def test_stage_clusters_shapes_and_outputs() -> None:
    dot = to_graphviz(bg.library.get("batchnorm")).source
    for number, stage in enumerate(bg.library.get("batchnorm").stages, start=1):
        assert f"subgraph cluster_{number} {{\n\t\tlabel=<<B>{stage}</B>>" in dot
    assert '"x" [shape=ellipse' in dot
    assert '"mu" [shape=box' in dot
    out_line = next(line for line in dot.splitlines() if line.strip().startswith('"out" ['))
    assert "peripheries=2" in out_line
    assert "legend" in dot


def test_every_node_shows_what_it_computes_its_shape_and_step_without_a_run() -> None:
    g = bg.library.get("batchnorm")
    nodes = drawn(svg_of(to_graphviz(g)), "node")
    assert set(g.names) <= set(nodes)
    assert nodes["x"].rows == ["x: input", "(N, D) · given"]
    assert nodes["xmu"].rows == ["xmu = x − mu", "(N, D) · step 2"]
    assert nodes["mu"].rows == ["mu = mean(x, axis=0)", "(D,) · step 1"]
    assert nodes["eps"].rows == ["eps: input = 1e-05", "() · given"]
    # the whole formula and the lifetime of the value are in the tooltip
    assert nodes["xmu"].tooltip.startswith("xmu = x − mu\nshape (N, D), step 2\nsaved for backward")


def test_long_formulas_are_cut_in_the_node_and_whole_in_the_tooltip() -> None:
    g = bg.library.get("groupnorm")
    mu = drawn(svg_of(to_graphviz(g)), "node")["mu"]
    assert mu.rows[0] == "mu = mean(xg, axis=(2, 3, 4), keep…"
    assert mu.tooltip.startswith("mu = mean(xg, axis=(2, 3, 4), keepdims=True)\n")


@pytest.mark.dot
def test_svg_holds_every_value_and_gradient_in_brief_and_in_full() -> None:
    run = example_run("batchnorm")
    g = run.graph
    root = svg_of(to_graphviz(g, run, "both"))
    nodes = drawn(root, "node")
    for name in g.names:
        rows = nodes[name].rows
        assert rows[1].startswith(format_shape(run.shape(name)) + " · ")
        assert rows[-2] == brief(run.value(name))
        assert rows[-1] == "grad " + brief(run.grad(name))
        value, gradient = run.value(name), run.grad(name)
        assert f"value {summarize(value)}:\n{full_text(value)}" in nodes[name].tooltip
        assert f"gradient {summarize(gradient)}:\n{full_text(gradient)}" in nodes[name].tooltip
    edges = drawn(root, "edge", stroke=BACKWARD_COLOR)
    for name in g.names:
        contributions = run.contributions(name)
        for consumer, position, contribution in contributions:
            target = f"∑ {name}" if len(contributions) > 1 else name
            edge = edges[f"{target}->{consumer}"]
            assert edge.rows == [brief(contribution, mean=False)]
            assert edge.tooltip == (
                f"gradient sent by {consumer} to its operand {position} ({name}): "
                f"{summarize(contribution)}\n{full_text(contribution)}"
            )


@pytest.mark.dot
def test_fan_out_gradients_are_drawn_as_a_visible_sum_matching_the_closed_form() -> None:
    run = example_run("batchnorm")
    inputs = bg.library.example("batchnorm")
    out, cache = batchnorm_forward(inputs["x"], inputs["gamma"], inputs["beta"], inputs["eps"])
    reference = batchnorm_backward(out, cache)
    # independent chain rule by hand for the two gradients reaching xmu and x
    n = inputs["x"].shape[0]
    dxhat = out * inputs["gamma"]
    var = (cache.xmu**2).mean(0)
    dvar = -0.5 * (dxhat * cache.xmu).sum(0) * (var + inputs["eps"]) ** -1.5
    from_xhat = dxhat * cache.ivar
    from_sq = 2 * cache.xmu / n * dvar
    dxmu = from_xhat + from_sq
    from_mu = np.broadcast_to(-dxmu.sum(0) / n, dxmu.shape)
    np.testing.assert_allclose(dxmu + from_mu, reference["x"], rtol=1e-10, atol=1e-12)

    edges = drawn(svg_of(to_graphviz(run.graph, run, "backward")), "edge")
    label = {title: e.rows[0] for title, e in edges.items() if e.rows}
    assert_summary(label["∑ xmu->xhat"], from_xhat)
    assert_summary(label["∑ xmu->sq"], from_sq)
    assert label["xmu->∑ xmu"].startswith("sum ")
    assert_summary(label["xmu->∑ xmu"], dxmu)
    assert_summary(label["∑ x->xmu"], dxmu)
    assert_summary(label["∑ x->mu"], from_mu)
    assert label["x->∑ x"].startswith("sum ")
    assert_summary(label["x->∑ x"], reference["x"])
    # nodes used once get no sum node
    assert not any(t.startswith("∑ sq") for t in edges)


def test_a_value_used_twice_by_one_node_gets_a_sum_of_two_edges() -> None:
    g = bg.Graph("square")
    a = g.input("a")
    g.output((a * a).named("y"))
    run = g.forward(keep_values=True, a=np.array([1.0, 3.0]))
    run.backward()
    dot = to_graphviz(g, run, "backward").source
    assert dot.count('"∑ a" -> "y" [dir=back') == 2
    assert '"a" -> "∑ a" [dir=back' in dot
    assert "label=<sum [2, 6]>" in dot  # d(a*a)/da = 2a
    assert dot.count("label=<[1, 3]>") == 2  # each edge sends the other operand


def test_schedule_steps_saved_and_released_values() -> None:
    run = lean_run()
    g = run.graph
    nodes = drawn(svg_of(to_graphviz(g, run, "both")), "node")
    released = set(run.released())
    saved = {g.names[i] for i in g.plan.saved_values}
    assert released and saved and not released & saved
    release_step = {
        g.names[j]: k for k, step in enumerate(g.plan.forward_steps, start=1) for j in step.release
    }
    for name in g.names:
        forward, backward = run.step(name)
        node = nodes[name]
        schedule = f"step {forward} · back {backward}" if forward else "given"
        assert node.rows[1].endswith(schedule), node.rows
        assert ("saved for backward" in node.tooltip) == (name in saved)
        fills = {e.get("fill") for e in node.element.iter() if e.get("fill")}
        assert (SAVED_FILL in fills) == (name in saved), (name, fills)
        if name in released:
            assert f"released after step {release_step[name]}" in node.tooltip
            assert "released" in node.rows
            assert "value " not in node.tooltip  # a released value is not shown
    released_line = next(
        line
        for line in to_graphviz(g, run).source.splitlines()
        if line.strip().startswith(f'"{sorted(released)[0]}" [')
    )
    assert "dashed" in released_line


def test_forward_view_has_no_red_edges_and_backward_view_hides_forward_edges() -> None:
    run = example_run("batchnorm")
    forward = to_graphviz(run.graph, run, "forward").source
    backward = to_graphviz(run.graph, run, "backward").source
    both = to_graphviz(run.graph, run, "both").source
    assert "dir=back" not in forward.split("legend")[0]
    assert '"x" -> "mu" [color=black]' in forward
    assert '"x" -> "mu" [color="#b0b0b0" style=invis]' in backward
    assert both.count("dir=back") == backward.count("dir=back")
    assert "grad " not in forward


def test_default_view_follows_the_run() -> None:
    g = bg.library.get("batchnorm")
    forward_only = g.forward(**bg.library.example("batchnorm"))
    assert "forward view" in g.to_graphviz(forward_only).source
    assert "both view" in g.to_graphviz(example_run("batchnorm")).source


def test_a_graph_whose_declared_shapes_clash_still_draws() -> None:
    g = bg.Graph("clash")
    a = g.input("a", shape=(3,))
    b = g.input("b", shape=(4,))
    g.output((a + b).named("c"))
    with pytest.raises(bg.errors.ShapeError):
        g.forward(a=np.ones(3), b=np.ones(4))
    nodes = drawn(svg_of(to_graphviz(g)), "node")
    assert nodes["c"].rows == ["c = a + b", "? · step 1"]


def test_formulas() -> None:
    g = bg.library.get("batchnorm")
    assert [formula(g, n) for n in ("add_1", "sqrtvar", "xhat", "var")] == [
        "add_1 = var + eps",
        "sqrtvar = √add_1",
        "xhat = xmu × ivar",
        "var = mean(sq, axis=0)",
    ]


def test_bad_view_and_stage_list_the_choices() -> None:
    g = bg.library.get("batchnorm")
    with pytest.raises(VizError, match="views: forward, backward, both"):
        to_graphviz(g, view="backwards")
    with pytest.raises(VizError, match=r"did you mean '1 mean'.*stages: 1 mean, 2 center"):
        to_graphviz(g, stage="1 maen")
    other = bg.library.get("batchnorm").forward(**bg.library.example("batchnorm"))
    g2 = bg.Graph("other")
    g2.output((g2.input("a") * 2).named("b"))
    with pytest.raises(VizError, match="run of graph 'batchnorm'"):
        to_graphviz(g2, other)


def test_one_stage_in_full_with_its_neighbours_greyed() -> None:
    run = example_run("batchnorm")
    dot = to_graphviz(run.graph, run, stage="2 center").source
    node_lines = [
        line.strip() for line in dot.splitlines() if "[shape=" in line and "legend" not in line
    ]
    names = {line.split('" [')[0].strip('"') for line in node_lines}
    assert names == {"xmu", "∑ xmu", "x", "mu", "sq", "xhat"}
    assert '"x" [shape=box style="dashed"' in dot
    assert "both view of stage 2 center" in dot


# ---------------------------------------------------------------------- determinism

_DOT_SCRIPT = """
import sys, bngraph as bg
g = bg.library.get("batchnorm")
run = g.forward(keep_values=True, **bg.library.example("batchnorm"))
run.backward(run.outputs["out"])
sys.stdout.write(g.to_graphviz(run, view="both").source)
sys.stdout.write(g.to_graphviz(stage="5 std").source)
sys.stdout.write(g.to_graphviz(collapse=True).source)
"""


def test_dot_is_byte_identical_across_processes_with_different_hash_seeds() -> None:
    outputs = []
    for seed in ("1", "2", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        done = subprocess.run(
            [sys.executable, "-c", _DOT_SCRIPT], env=env, capture_output=True, check=True
        )
        outputs.append(done.stdout)
    assert outputs[0] == outputs[1] == outputs[2]
    run = example_run("batchnorm")
    assert outputs[0].decode("utf-8").startswith(to_graphviz(run.graph, run, "both").source)


# ---------------------------------------------------------------------- escaping

HOSTILE = [
    'say "hi"',
    "<script>alert(1)</script>",
    "a & b",
    "two\nlines",
    "back\\slash",
    "ends with\\",
    "]]> -->",
    "<b>bold</b>",
    "legend",
    "∑ y",
]


def hostile_graph() -> bg.Graph:
    g = bg.Graph('g"<&>')
    a = g.input(HOSTILE[0])
    b = g.input(HOSTILE[1])
    with g.stage('stage "<&>"\nnext'):
        c = (a * b).named(HOSTILE[2])
        d = (c + a).named(HOSTILE[3])
    e = bg.sqrt(d, name=HOSTILE[4])
    f = (e * 2).named(HOSTILE[5])
    h = (f - c).named(HOSTILE[6])
    k = (h + 1).named(HOSTILE[7])
    m = (k * k).named(HOSTILE[8])
    g.output((m + 0).named(HOSTILE[9]))
    return g


@pytest.mark.dot
def test_hostile_names_render_as_text_and_inject_nothing() -> None:
    g = hostile_graph()
    run = g.forward(keep_values=True, **{HOSTILE[0]: np.array([1.0, 2.0]), HOSTILE[1]: 3.0})
    run.backward()
    for view in ("forward", "backward", "both"):
        svg = pipe(to_graphviz(g, run, view), "svg")
        root = ET.fromstring(svg)  # well-formed XML
        tags = {element.tag for element in root.iter()}
        assert f"{SVG}script" not in tags and f"{SVG}b" not in tags
        assert b"<script" not in svg and b"<b>" not in svg
        texts = [t.text or "" for t in root.iter(f"{SVG}text")]
        for name in HOSTILE:
            for line in name.split("\n"):
                assert line in texts, (view, name, line)
        titles = [
            t.text
            for group in root.iter(f"{SVG}g")
            if group.get("class") == "node"
            for t in group.iter(f"{SVG}title")
        ]
        # node ids are the names, escaped: a newline written as \n, a backslash doubled
        # (Graphviz turns \" back into a quote and keeps the rest as written)
        assert {quote_id(name)[1:-1].replace('\\"', '"') for name in HOSTILE} <= set(titles)
        # the extra nodes (sums, seeds, legend) never take a node's name, even "legend" or "∑ y"
        assert len(titles) == len(set(titles))


@pytest.mark.dot
def test_hostile_names_in_the_collapsed_view() -> None:
    svg = pipe(to_graphviz(hostile_graph(), collapse=True), "svg")
    root = ET.fromstring(svg)
    assert b"<script" not in svg and b"<b>" not in svg
    texts = [t.text or "" for t in root.iter(f"{SVG}text")]
    assert 'stage "<&>"' in texts and "next" in texts and HOSTILE[1] in texts


def test_escaped_ids_are_distinct_for_distinct_names() -> None:
    names = ["a\\", "a\\\\", 'a"', 'a\\"', "a\n", "a\\n", "a\x01", "a\\x01", "a"]
    ids = [quote_id(n) for n in names]
    assert len(set(ids)) == len(ids)
    for text in ids:
        assert "\n" not in text and text.startswith('"') and text.endswith('"')


@pytest.mark.dot
def test_tooltips_hold_the_full_value_bounded() -> None:
    import graphviz

    from bngraph.viz.summary import TOOLTIP_CHARS

    run = example_run("batchnorm")
    digraph = run.graph.to_graphviz(run)
    assert isinstance(digraph, graphviz.Digraph)
    tips = {name: node.tooltip for name, node in drawn(svg_of(digraph), "node").items()}
    assert f":\n{full_text(run.value('xhat'))}" in tips["xhat"]
    assert f"gradient {summarize(run.grad('x'))}:\n{full_text(run.grad('x'))}" in tips["x"]
    assert tips["xmu"].startswith("xmu = x − mu\nshape (5, 4), step 2 · back 9")

    g = bg.Graph("wide")
    g.output(bg.tanh(g.input("a"), name="t"))
    big = g.forward(keep_values=True, a=np.linspace(0, 1, 100_000))
    tip = next(
        line for line in to_graphviz(g, big).source.splitlines() if line.strip().startswith('"t" [')
    )
    value = tip.split(":\\n", 1)[1].rsplit('"]', 1)[0]
    assert len(value.replace("\\n", "\n")) <= TOOLTIP_CHARS
