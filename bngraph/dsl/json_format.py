"""Graphs as JSON: networkx's node-link layout of the IR plus a ``format_version``.

``to_json(graph)`` writes ``networkx.node_link_data(graph.to_networkx())`` with
two more fields, ``"format": "bngraph"`` and ``"format_version"``; node
attributes are ``op``, ``params``, ``stage``, ``index`` (definition order) and
``literals`` (number operands by position), edge keys are operand positions.
``ir_from_json(text)`` checks the document and rebuilds the graph's IR
(``bngraph.from_json`` makes a graph of it), so that ``to_json(ir_from_json(text))
== text``.

>>> import bngraph as bg
>>> text = bg.library.get("batchnorm").to_json()
>>> '"format_version": 1' in text
True
>>> to_json(ir_from_json(text)) == text
True
"""

from __future__ import annotations

import json
from typing import Any

import networkx as nx

from ..ir import INPUT, IR, HasIR, NodeSpec
from .errors import JSONFormatError

__all__ = ["to_json", "ir_from_json", "FORMAT_VERSION", "to_document", "ir_from_document"]

FORMAT_VERSION = 1
"""The version written; ``from_json`` reads this version only."""

SUPPORTED_VERSIONS = (1,)


def to_json(graph: HasIR) -> str:
    """The JSON text of a graph or its IR (freezing a graph, as every export does)."""
    return json.dumps(to_document(graph), indent=2) + "\n"


def to_document(graph: HasIR) -> dict[str, Any]:
    """The JSON document as Python data (tuples become lists)."""
    ir = graph.ir.to_networkx()
    data = nx.node_link_data(ir, edges="edges")
    return {"format": "bngraph", "format_version": FORMAT_VERSION, **_plain(data)}


def _plain(value: Any) -> Any:
    """Tuples to lists and literal positions to string keys, as JSON would make them."""
    if isinstance(value, dict):
        return {str(k) if isinstance(k, int) else k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def ir_from_json(text: str | bytes) -> IR:
    """The IR of a JSON document written by ``to_json``.

    Malformed documents and unknown format versions raise ``JSONFormatError``.
    """
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise JSONFormatError(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except (TypeError, UnicodeDecodeError) as error:
        raise JSONFormatError(f"not JSON text: {error}") from None
    return ir_from_document(document)


def ir_from_document(document: Any) -> IR:
    """The IR of a document already decoded from JSON."""
    _require(isinstance(document, dict), "the document must be a JSON object")
    version = document.get("format_version")
    if version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        raise JSONFormatError(
            f"unknown format_version {version!r}; this version of bngraph reads: {supported}"
            if "format_version" in document
            else f"the document has no format_version (this version of bngraph reads: {supported})"
        )
    if document.get("format", "bngraph") != "bngraph":
        raise JSONFormatError(f"not a bngraph document (format {document.get('format')!r})")
    _require(document.get("directed") is True and document.get("multigraph") is True,
             "a graph document is directed and a multigraph")
    attrs = _field(document, "graph", dict, "the document")
    name = _field(attrs, "name", str, "graph")
    outputs = _field(attrs, "outputs", list, "graph")
    _require(all(isinstance(o, str) for o in outputs), "graph outputs must be node names")
    nodes = _field(document, "nodes", list, "the document")
    edges = _field(document, "edges", list, "the document")
    operands = _operands(nodes, edges)
    specs = [_spec(node, operands[node["id"]]) for node in _in_order(nodes)]
    return IR.from_specs(name, specs, outputs)


def _require(condition: bool, msg: str) -> None:
    if not condition:
        raise JSONFormatError(msg)


def _field(record: Any, key: str, kind: type, where: str) -> Any:
    _require(isinstance(record, dict), f"{where} must be a JSON object")
    _require(key in record, f"{where} has no field {key!r}")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise JSONFormatError(
            f"{where}: field {key!r} must be {_KINDS[kind]}, not {type(value).__name__}"
        )
    return value


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def _in_order(nodes: list[Any]) -> list[dict[str, Any]]:
    for node in nodes:
        _field(node, "id", str, "a node")
        _field(node, "index", int, f"node {node['id']!r}")
    indices = sorted(node["index"] for node in nodes)
    _require(indices == list(range(len(nodes))),
             "node indices must number the nodes 0, 1, 2, ... without gaps or repeats")
    return sorted(nodes, key=lambda node: node["index"])


def _operands(nodes: list[Any], edges: list[Any]) -> dict[str, list[str | float]]:
    """Each node's operands by position, from its in-edges and its literals."""
    slots: dict[str, dict[int, str | float]] = {}
    for node in nodes:
        _require(isinstance(node, dict) and isinstance(node.get("id"), str),
                 "every node needs a string 'id'")
        _require(node["id"] not in slots, f"node {node['id']!r} appears twice")
        literals = node.get("literals", {})
        _require(isinstance(literals, dict), f"node {node['id']!r}: literals must be an object")
        slots[node["id"]] = {
            _position(k, node["id"]): _number(v, node["id"]) for k, v in literals.items()
        }
    for edge in edges:
        source = _field(edge, "source", str, "an edge")
        target = _field(edge, "target", str, "an edge")
        key = _field(edge, "key", int, "an edge")
        for end in (source, target):
            _require(end in slots, f"an edge names {end!r}, which is not a node")
        _require(key not in slots[target],
                 f"node {target!r} has two operands at position {key}")
        slots[target][key] = source
    result: dict[str, list[str | float]] = {}
    for name, by_position in slots.items():
        _require(sorted(by_position) == list(range(len(by_position))),
                 f"node {name!r}: operand positions must be 0, 1, ... without gaps")
        result[name] = [by_position[i] for i in range(len(by_position))]
    return result


def _position(key: Any, node: str) -> int:
    _require(isinstance(key, str) and key.isdigit(),
             f"node {node!r}: literal positions must be non-negative integers, not {key!r}")
    return int(key)


def _number(value: Any, node: str) -> float:
    _require(isinstance(value, (int, float)) and not isinstance(value, bool),
             f"node {node!r}: a literal operand must be a number, not {value!r}")
    return float(value)


def _spec(node: dict[str, Any], operands: list[str | float]) -> NodeSpec:
    where = f"node {node['id']!r}"
    op = _field(node, "op", str, where)
    params = _field(node, "params", dict, where)
    stage = node.get("stage")
    _require(stage is None or isinstance(stage, str), f"{where}: stage must be a string or null")
    return NodeSpec(node["id"], op, tuple(operands), _params(params, op), stage)


def _params(params: dict[str, Any], op: str) -> dict[str, Any]:
    """JSON lists back to tuples (shapes, axes): parameters hold no lists."""
    def restore(value: Any) -> Any:
        return tuple(restore(v) for v in value) if isinstance(value, list) else value

    restored = {key: restore(value) for key, value in params.items()}
    if op == INPUT and "default" in restored:
        default = restored["default"]
        _require(default is None or isinstance(default, (int, float)) and
                 not isinstance(default, bool), "an input's default must be a number")
    return restored
