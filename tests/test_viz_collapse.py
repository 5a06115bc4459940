"""The collapsed view of large graphs, and drawing one stage of them in full."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter

import networkx as nx
import numpy as np
import pytest

import bngraph as bg
from bngraph.testing.graphs import chain, layered, random_staged
from bngraph.viz import COLLAPSE_THRESHOLD, to_graphviz
from bngraph.viz.collapse import ROW, collapsed_view
from bngraph.viz.render import pipe
from bngraph.viz.stage_graph import MAX_GROUPS, MAX_INCOMING, stage_graph

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
    edge_lines = [
        line.strip() for line in dot.splitlines() if " -> " in line and "invis" not in line
    ]
    assert len(edge_lines) == len(expected)  # a chain of stages: nothing is implied
    for (source, target), count in expected.items():
        line = next(e for e in edge_lines if e.startswith(f'"{source}" -> "{target}" '))
        assert f"label=<{count} edges>" in line
        assert f"tooltip=\"{count} values of {source} used in {target}\"" in line
    backward = to_graphviz(g, view="backward").source
    # the backward view reads as the gradient flows: consumer stage to operand stage
    count = expected[("layer 0", "layer 1")]
    assert f'"layer 1" -> "layer 0" [label=<{count} edges> color="#cc0000"' in backward


def test_edges_implied_by_other_stages_are_left_out_and_listed_in_tooltips() -> None:
    g = random_staged(nodes=2000, stages=20, seed=3)
    sg = stage_graph(g)
    implied = nx.DiGraph(list(sg.edges))
    assert nx.is_directed_acyclic_graph(implied)
    reduced = set(nx.transitive_reduction(implied).edges)
    assert set(sg.drawn) <= reduced  # only edges that no path implies
    # at most MAX_INCOMING into a stage, but no stage is left without a drawn way out
    sources = {a for a, _ in sg.edges}
    for box in sg.members:
        into = [e for e in sg.drawn if e[1] == box]
        out = [e for e in sg.drawn if e[0] == box]
        only_way_out = [e for e in into if sum(d[0] == e[0] for d in sg.drawn) == 1]
        assert len(into) <= MAX_INCOMING + len(only_way_out)
        assert out or box not in sources, box
    assert len(sg.drawn) <= (MAX_INCOMING + 1) * len(sg.members)
    dot = collapsed_view(g, None, "forward").source
    left = len(sg.edges) - len(sg.drawn)
    assert left > 150
    assert f"{left} of the {len(sg.edges)} edges between stages are left out" in dot
    stage_line = next(line for line in dot.splitlines() if line.strip().startswith('"stage 5" ['))
    takes = ", ".join(f"stage {k} ({sg.edges[f'stage {k}', 'stage 5']})" for k in range(5))
    x0 = sg.edges["x0", "stage 5"]
    assert f"takes values from x0 ({x0}), {takes}\\nfeeds stage 6" in stage_line


def test_many_stages_are_drawn_in_groups_of_consecutive_stages() -> None:
    g = chain(nodes=3001, stages=3000)
    sg = stage_graph(g)
    assert len(sg.members) <= MAX_GROUPS and sg.group_count == 3001
    assert sum(len(m) for m in sg.members.values()) == len(g)
    dot = to_graphviz(g).source
    assert f"Its 3000 stages are drawn in {len(sg.members)} groups" in dot
    assert '"x … stage 61" [' in dot and '"stage 62 … stage 124" [' in dot


def test_many_unstaged_nodes_are_grouped_in_chunks() -> None:
    g = bg.Graph("loose")
    node = g.input("x")
    for _ in range(250):
        node = bg.tanh(node)
    g.output(node)
    sg = stage_graph(g)
    assert [len(m) for m in sg.members.values()] == [100, 100, 51]
    assert list(sg.members) == ["(no stage) 1", "(no stage) 2", "(no stage) 3"]


def test_collapsed_views_read_in_rows() -> None:
    g = layered(stages=12, width=20)
    dot = collapsed_view(g, None, "forward").source
    rows = [line.strip() for line in dot.splitlines() if line.strip().startswith("{rank=same;")]
    boxes = ["(no stage)"] + [f"layer {k}" for k in range(12)] + ["sum"]
    assert rows == [
        "{rank=same; " + " ".join(f'"{b}";' for b in boxes[k : k + ROW]) + "}"
        for k in range(0, len(boxes), ROW)
    ]
    # an edge between two rows does not pull the rows apart
    count = stage_graph(g).edges[boxes[ROW - 1], boxes[ROW]]
    assert f'"{boxes[ROW - 1]}" -> "{boxes[ROW]}" [label=<{count} edges> constraint=false' in dot
    # the backward view starts from the last stage
    backward = collapsed_view(g, None, "backward").source
    first_row = next(line for line in backward.splitlines() if "rank=same" in line)
    assert first_row.strip().startswith('{rank=same; "sum"; "layer 11";')


def test_collapse_can_be_forced_either_way() -> None:
    g = layered(stages=4, width=40)
    full = to_graphviz(g, collapse=False).source
    assert "collapsed" not in full and all(f'"{n}" [' in full for n in g.names)
    small = bg.library.get("batchnorm")
    collapsed = to_graphviz(small, collapse=True).source
    assert '"5 std" [shape=box3d label=<<B>5 std</B><BR/>2 nodes<BR/>1 add, 1 sqrt>' in collapsed
    assert "collapsed." in collapsed  # asked for, not above the threshold
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
