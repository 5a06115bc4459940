"""Graphs as JSON documents: round trips, the layout, and malformed documents."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from graph_strategies import graphs
from hypothesis import HealthCheck, given, settings

import bngraph as bg
from bngraph.dsl import FORMAT_VERSION, JSONFormatError, differences, from_json, to_json
from bngraph.dsl.json_format import to_document


@pytest.mark.parametrize("name", bg.library.names())
def test_library_graphs_round_trip_exactly(name: str) -> None:
    graph = bg.library.get(name)
    text = graph.to_json()
    again = from_json(text)
    assert differences(graph, again) == []
    assert again.to_json() == text


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(graphs())
def test_random_graphs_round_trip_exactly(graph: bg.Graph) -> None:
    text = to_json(graph)
    again = from_json(text)
    assert differences(graph, again) == []
    assert to_json(again) == text


def test_the_document_is_networkx_node_link_data_with_a_format_version() -> None:
    import networkx as nx

    document = json.loads(bg.library.get("batchnorm").to_json())
    assert document["format"] == "bngraph" and document["format_version"] == FORMAT_VERSION == 1
    ivar = next(n for n in document["nodes"] if n["id"] == "ivar")
    assert ivar == {"op": "div", "params": {}, "stage": "6 invert", "index": 10,
                    "literals": {"0": 1.0}, "id": "ivar"}
    assert {"source": "sqrtvar", "target": "ivar", "key": 1} in document["edges"]
    # networkx itself reads the layout back
    ir = nx.node_link_graph(document, edges="edges")
    assert sorted(ir.edges(keys=True)) == sorted(bg.library.get("batchnorm").to_networkx().edges(keys=True))


def test_a_graph_whose_nodes_were_defined_out_of_order_keeps_its_definition_order() -> None:
    specs = [bg.NodeSpec("y", "neg", ("x",)), bg.NodeSpec("x", "input")]
    graph = bg.Graph.from_specs("g", specs, ["y"])
    again = from_json(graph.to_json())
    assert again.names == ("y", "x") and again.to_json() == graph.to_json()
    assert differences(graph, bg.parse(graph.to_dsl())) == []  # the text lists x first


def document() -> dict[str, Any]:
    return to_document(bg.library.get("batchnorm"))


def broken(change: Any) -> str:
    doc = copy.deepcopy(document())
    change(doc)
    return json.dumps(doc)


def node(doc: dict[str, Any], name: str) -> dict[str, Any]:
    return next(n for n in doc["nodes"] if n["id"] == name)


@pytest.mark.parametrize(
    "text, message",
    [
        ("{", "not valid JSON: Expecting property name enclosed in double quotes (line 1, column 2)"),
        ("[]", "the document must be a JSON object"),
        (broken(lambda d: d.pop("format_version")), "the document has no format_version"),
        (broken(lambda d: d.update(format_version=2)),
         "unknown format_version 2; this version of bngraph reads: 1"),
        (broken(lambda d: d.update(format_version="1")), "unknown format_version '1'"),
        (broken(lambda d: d.update(format="other")), "not a bngraph document (format 'other')"),
        (broken(lambda d: d.update(multigraph=False)), "directed and a multigraph"),
        (broken(lambda d: d.pop("graph")), "the document has no field 'graph'"),
        (broken(lambda d: d["graph"].pop("name")), "graph has no field 'name'"),
        (broken(lambda d: d["graph"].update(outputs="out")),
         "graph: field 'outputs' must be a list, not str"),
        (broken(lambda d: d["graph"].update(outputs=[1])), "graph outputs must be node names"),
        (broken(lambda d: d.update(nodes={})), "field 'nodes' must be a list, not dict"),
        (broken(lambda d: d["nodes"].append(5)), "every node needs a string 'id'"),
        (broken(lambda d: d["nodes"].append(dict(node(d, "mu")))), "node 'mu' appears twice"),
        (broken(lambda d: node(d, "mu").update(index=99)), "node indices must number the nodes"),
        (broken(lambda d: node(d, "mu").update(index=True)), "field 'index' must be an integer"),
        (broken(lambda d: node(d, "mu").pop("op")), "node 'mu' has no field 'op'"),
        (broken(lambda d: node(d, "mu").update(params=[])), "field 'params' must be an object"),
        (broken(lambda d: node(d, "mu").update(stage=3)), "stage must be a string or null"),
        (broken(lambda d: node(d, "ivar").update(literals={"0": "1"})),
         "node 'ivar': a literal operand must be a number, not '1'"),
        (broken(lambda d: node(d, "ivar").update(literals={"a": 1.0})),
         "literal positions must be non-negative integers"),
        (broken(lambda d: node(d, "ivar").update(literals={"1": 1.0})),
         "node 'ivar' has two operands at position 1"),
        (broken(lambda d: node(d, "ivar").update(literals={"2": 1.0})),
         "node 'ivar': operand positions must be 0, 1, ... without gaps"),
        (broken(lambda d: d["edges"].append({"source": "nope", "target": "mu", "key": 1})),
         "an edge names 'nope', which is not a node"),
        (broken(lambda d: d["edges"][0].pop("key")), "an edge has no field 'key'"),
        (broken(lambda d: node(d, "eps").update(params={"default": "small"})),
         "an input's default must be a number"),
    ],
)
def test_malformed_documents_are_a_clear_error(text: str, message: str) -> None:
    with pytest.raises(JSONFormatError) as caught:
        from_json(text)
    assert message in str(caught.value)


def test_a_document_naming_an_unknown_op_says_so() -> None:
    text = broken(lambda d: node(d, "mu").update(op="maen"))
    with pytest.raises(bg.errors.UnknownOpError, match="unknown op 'maen' \\(did you mean 'mean'\\?\\)"):
        from_json(text)


def test_a_document_with_a_cycle_says_so() -> None:
    def loop(d: dict[str, Any]) -> None:
        edge = next(e for e in d["edges"] if e["target"] == "mu")
        edge["source"] = "out"

    with pytest.raises(bg.errors.CycleError, match="mu -> xmu"):
        from_json(broken(loop))
