"""The collapsed view of large graphs, and drawing one stage of them in full."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import numpy as np
import pytest

import bngraph as bg
from bngraph.testing.graphs import layered
from bngraph.viz import COLLAPSE_THRESHOLD, to_graphviz
from bngraph.viz.render import pipe

SVG = "{http://www.w3.org/2000/svg}"


def node_titles(digraph) -> list[str]:
    root = ET.fromstring(pipe(digraph, "svg"))
    return [
        group.find(f"{SVG}title").text
        for group in root.iter(f"{SVG}g")
        if group.get("class") == "node"
    ]


def test_large_graphs_are_collapsed_by_default_with_a_note() -> None:
    g = layered(stages=4, width=40)
    assert len(g) > COLLAPSE_THRESHOLD
    dot = to_graphviz(g).source
    assert "collapsed:" in dot and f"more than {COLLAPSE_THRESHOLD}" in dot
    assert "to_graphviz(stage=...)" in dot
    # one node per stage with its count and ops; the 40 inputs (no stage) as one group
    stage_sizes = Counter(spec.stage for spec in g.nodes)
    for stage, count in stage_sizes.items():
        label = "(no stage)" if stage is None else stage
        assert f'"{label}" [shape=' in dot
        assert f"<B>{label}</B><BR/>{count} nodes" in dot
    assert "20 add, 20 mul, 20 tanh" in dot


def test_collapsed_edges_count_the_operand_edges_between_stages() -> None:
    g = layered(stages=3, width=40)
    group = {spec.name: spec.stage or "(no stage)" for spec in g.nodes}
    expected = Counter(
        (group[o], group[spec.name])
        for spec in g.nodes
        for o in spec.operands
        if isinstance(o, str) and group[o] != group[spec.name]
    )
    dot = to_graphviz(g, view="forward").source
    edge_lines = [line.strip() for line in dot.splitlines() if " -> " in line]
    assert len(edge_lines) == len(expected)
    for (source, target), count in expected.items():
        label = f"[label=<{count} edges>]" if count > 1 else "[]"
        assert f'"{source}" -> "{target}" {label}' in edge_lines
    backward = to_graphviz(g, view="backward").source
    assert backward.count("dir=back") == len(expected)


def test_collapse_can_be_forced_either_way() -> None:
    g = layered(stages=4, width=40)
    full = to_graphviz(g, collapse=False).source
    assert "collapsed" not in full and all(f'"{n}" [' in full for n in g.names)
    small = bg.library.get("batchnorm")
    collapsed = to_graphviz(small, collapse=True).source
    assert '"5 std" [shape=box3d label=<<B>5 std</B><BR/>2 nodes<BR/>1 add, 1 sqrt>' in collapsed
    assert "collapsed, so each stage" in collapsed  # asked for, not above the threshold
    # the four inputs, outside every stage and few, keep nodes of their own
    assert '"x" [shape=ellipse' in collapsed and "(no stage)" not in collapsed
    assert "collapsed: 14 nodes is more than 5" in to_graphviz(small, threshold=5).source


@pytest.mark.dot
def test_one_stage_of_a_large_graph_in_full() -> None:
    g = layered(stages=4, width=40)
    run = g.forward(keep_values=True, **{f"x{k}": np.full(3, 0.5) for k in range(40)})
    run.backward()
    titles = node_titles(to_graphviz(g, run, stage="layer 2"))
    members = {s.name for s in g.nodes if s.stage == "layer 2"}
    assert members <= set(titles)
    neighbours = {o for n in members for o in g.spec(n).operands if isinstance(o, str)}
    neighbours |= {c for n in members for c in g.consumers(n)}
    neighbours -= members
    assert neighbours <= set(titles)
    others = set(titles) - members - neighbours
    assert all(t.startswith(("∑ ", "legend")) for t in others), others


@pytest.mark.dot
def test_a_five_thousand_node_graph_renders_collapsed_to_valid_svg() -> None:
    g = layered(stages=41, width=80)
    assert len(g) > 5000
    titles = node_titles(to_graphviz(g))
    assert len(titles) == len(g.stages) + 1  # the stages and the inputs' group
