"""Graphs as JSON documents: round trips, the layout, and malformed documents."""

from __future__ import annotations

import contextlib
import copy
import json
from typing import Any

import pytest
from graph_strategies import graphs
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
         "graph: field 'outputs' must be a list, not a string"),
        (broken(lambda d: d["graph"].update(outputs=[1])), "graph outputs must be node names"),
        (broken(lambda d: d.update(nodes={})), "field 'nodes' must be a list, not an object"),
        (broken(lambda d: d["nodes"].append(5)), "every node needs a string 'id'"),
        (broken(lambda d: d["nodes"].append(dict(node(d, "mu")))), "node 'mu' appears twice"),
        (broken(lambda d: node(d, "mu").update(index=99)), "node indices must number the nodes"),
        (broken(lambda d: node(d, "mu").update(index=True)), "field 'index' must be an integer"),
        (broken(lambda d: node(d, "mu").pop("op")), "node 'mu' has no field 'op'"),
        (broken(lambda d: node(d, "mu").update(params=[])), "field 'params' must be an object"),
        (broken(lambda d: node(d, "mu").update(stage=3)), "stage must be a string or null"),
        (broken(lambda d: node(d, "ivar").update(literals={"0": "1"})),
         "node 'ivar': literal operand 0 must be a number, not '1'"),
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
         "node 'eps': parameter 'default' must be a number, not 'small'"),
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


BIG = "1" + "0" * 400  # 10**400: an int in JSON and in the text, beyond every float


def with_text(change: Any, old: str, new: str) -> str:
    """The document with ``change`` applied, then ``old`` replaced by ``new`` in its text
    (for numbers that ``json.dumps`` cannot write, such as 10**400)."""
    text = broken(change)
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize(
    "text, message",
    [
        (broken(lambda d: node(d, "x").update(params={"shape": 5})),
         "node 'x': parameter 'shape' must be a list of symbol names and sizes, not an integer"),
        (broken(lambda d: node(d, "x").update(params={"shape": "N"})),
         "node 'x': parameter 'shape' must be a list of symbol names and sizes, not a string"),
        (broken(lambda d: node(d, "x").update(params={"shape": ["N", [2]]})),
         "node 'x': parameter 'shape' holds symbol names and sizes (integers >= 0), not [2]"),
        (broken(lambda d: node(d, "x").update(params={"shape": ["N", 2.0]})),
         "parameter 'shape' holds symbol names and sizes (integers >= 0), not 2.0"),
        (broken(lambda d: node(d, "x").update(params={"shape": ["N", True]})),
         "parameter 'shape' holds symbol names and sizes (integers >= 0), not True"),
        (broken(lambda d: node(d, "x").update(params={"shape": ["N D"]})),
         "parameter 'shape' holds symbol names and sizes (integers >= 0), not 'N D'"),
        (broken(lambda d: node(d, "x").update(params={"shape": ["_N"]})),
         "not '_N'"),
        (broken(lambda d: node(d, "x").update(params={"shape": ["N"], "size": 3})),
         "node 'x': an input takes the parameters shape, default and grad, not 'size'"),
        (with_text(lambda d: node(d, "eps").update(params={"default": 7.0}), "7.0", BIG),
         "node 'eps': parameter 'default' must be a finite float, not an integer of 401 digits"),
        (with_text(lambda d: node(d, "eps").update(params={"default": 7.0}), "7.0", "1e400"),
         "node 'eps': parameter 'default' must be a finite float, not inf"),
        (with_text(lambda d: node(d, "ivar").update(literals={"0": 7.0}), "7.0", BIG),
         "node 'ivar': literal operand 0 must be a finite float, not an integer of 401 digits"),
        (with_text(lambda d: node(d, "ivar").update(literals={"0": 7.0}), "7.0", "-1e400"),
         "node 'ivar': literal operand 0 must be a finite float, not -inf"),
        (broken(lambda d: node(d, "ivar").update(literals={"\u00b2": 1.0})),
         "node 'ivar': literal positions must be non-negative integers, not '\u00b2'"),
        (broken(lambda d: node(d, "ivar").update(literals={"01": 1.0})),
         "literal positions must be non-negative integers, not '01'"),
        (broken(lambda d: node(d, "ivar").update(literals={"9" * 5000: 1.0})),
         "literal positions must be non-negative integers, not '99999"),
        (with_text(lambda d: node(d, "sq").update(params={"exponent": 7}), "7", BIG),
         "node 'sq': parameter 'exponent' must be a finite float, not an integer of 401 digits"),
        (broken(lambda d: node(d, "sq").update(params={"exponent": "2"})),
         "node 'sq': op pow: parameter exponent='2' must be a number"),
        (broken(lambda d: node(d, "mu").update(params={"axis": [0, [1]]})),
         "node 'mu': parameter 'axis' must be a list of integers, not [0, [1]]"),
        (broken(lambda d: node(d, "mu").update(params={"axis": {"a": 0}})),
         "parameter 'axis' must be an integer, a number, a boolean, null, a string or a list "
         "of integers, not an object"),
        (broken(lambda d: node(d, "sqrtvar").update(params={"casting": "unsafe"})),
         "node 'sqrtvar': op sqrt has no parameter 'casting'"),
        (broken(lambda d: d.update(format_version=True)), "unknown format_version True"),
        (broken(lambda d: d.update(format_version=1.0)), "unknown format_version 1.0"),
        (with_text(lambda d: d.update(format_version=7), "7", "NaN"),
         "not valid JSON: NaN is not a JSON number (numbers in a graph are finite) "
         "(line 1, column"),
        (with_text(lambda d: node(d, "ivar").update(literals={"0": 7.0}), "7.0", "Infinity"),
         "not valid JSON: Infinity is not a JSON number"),
        (with_text(lambda d: node(d, "ivar").update(literals={"0": 7.0}), "7.0", "-Infinity"),
         "not valid JSON: -Infinity is not a JSON number"),
        (with_text(lambda d: node(d, "mu").update(index=7), "7", "9" * 5000),
         "not valid JSON: an integer of 5,000 digits is too large to be read (line"),
        ("[" * 100_000 + "]" * 100_000, "the document is nested too deeply to be read"),
        ('{"a": ' * 100_000 + "1" + "}" * 100_000, "the document is nested too deeply to be read"),
    ],
)
def test_every_malformed_document_is_a_format_error_naming_the_field(
    text: str, message: str,
) -> None:
    """Each of these escaped as a raw TypeError, OverflowError, ValueError or RecursionError,
    or was read although the text language refuses it (NaN, inf, a bool version)."""
    with pytest.raises(JSONFormatError) as caught:
        from_json(text)
    assert message in str(caught.value)
    assert len(str(caught.value)) < 300  # a hostile value is not echoed whole


def test_a_refused_token_is_located_by_line_and_column() -> None:
    text = '{\n  "format_version": 1,\n  "x": [1, -Infinity]}'
    located = r"-Infinity is not a JSON number .*\(line 3, column 12\)"
    with pytest.raises(JSONFormatError, match=located):
        from_json(text)
    with pytest.raises(JSONFormatError, match=r"\(line 1, column 15\)"):
        from_json(b'{"a": 1, "b": ' + b"1" * 5000 + b"}")


def test_json_refuses_what_the_text_refuses_and_reads_what_it_reads() -> None:
    """The same graph written both ways: a number beyond floats fails in both readers."""
    text = f"input x[N]\ny = x * {BIG}\noutput y\n"
    with pytest.raises(bg.DSLSyntaxError, match="not a finite float"):
        bg.parse(text)
    good = bg.parse("input x[N]\ny = x * 7.0\noutput y\n")
    assert differences(from_json(good.to_json()), good) == []
    with pytest.raises(JSONFormatError, match="literal operand 1 must be a finite float"):
        from_json(good.to_json().replace("7.0", BIG))


HOSTILE_VALUES = [
    0, 1, -1, 3, 2**63, -(2**63) - 1, 1.5, -0.0, 1e308, float("inf"), float("nan"), True, False,
    None, "", "x", "N", "\u00b2", "0", "-1", "mean", "input", "\u0000", [], [1], [[1]], ["N"],
    [1.5], [None], [-1], {}, {"a": 1}, {"0": 1.0}, {"\u00b2": 1.0},
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    items: Any = ()
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list):
        items = enumerate(value)
    for key, inner in items:
        found += _paths(inner, (*prefix, key))
    return found


@st.composite
def mutated_documents(draw: Any) -> str:
    """A library graph's document with one to three fields replaced, removed or added."""
    doc = copy.deepcopy(to_document(bg.library.get(draw(st.sampled_from(bg.library.names())))))
    for _ in range(draw(st.integers(1, 3))):
        # mostly inside one node (its params and literals hold the numbers), else anywhere
        where = draw(st.sampled_from(["node", "node", "node", "anywhere"]))
        if where == "node" and doc.get("nodes") and isinstance(doc["nodes"], list):
            index = draw(st.integers(0, len(doc["nodes"]) - 1))
            path = draw(st.sampled_from(_paths(doc["nodes"][index], ("nodes", index))[1:] or
                                        [("nodes", index)]))
        else:
            path = draw(st.sampled_from(_paths(doc)[1:]))
        parent = doc
        for key in path[:-1]:
            parent = parent[key]
        action = draw(st.sampled_from(["replace", "remove", "add"]))
        value = copy.deepcopy(draw(st.sampled_from(HOSTILE_VALUES)))
        if action == "replace":
            parent[path[-1]] = value
        elif action == "remove":
            parent.pop(path[-1])
        elif isinstance(parent, dict):
            parent[draw(st.sampled_from(["x", "0", "\u00b2", "shape", "default", "axis"]))] = value
        else:
            parent.append(value)
    return json.dumps(doc)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_documents())
def test_a_mutated_document_is_read_whole_or_refused_with_a_bngraph_error(text: str) -> None:
    """Fuzzing the reader: no raw Python exception, and a graph it accepts can be written."""
    try:
        graph = from_json(text)
    except bg.BngraphError:
        return
    assert from_json(graph.to_json()).to_json() == graph.to_json()
    with contextlib.suppress(bg.dsl.DSLPrintError):  # a name the text cannot spell; JSON keeps it
        graph.to_dsl()
