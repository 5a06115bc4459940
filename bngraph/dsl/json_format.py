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
import keyword
import math
import re
from typing import Any

import networkx as nx

from ..errors import ParamError
from ..ir import INPUT, IR, HasIR, NodeSpec
from .errors import JSONFormatError
from .expressions import LANGUAGE_KEYWORDS

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
    The reader takes what the text language takes: ``NaN`` and ``Infinity``
    (which Python's ``json`` reads by default) and numbers that are not finite
    floats are refused, as is a document nested too deeply to be read.
    """
    try:
        document = json.loads(
            text, parse_constant=_refuse_constant, parse_int=_integer, parse_float=float
        )
    except json.JSONDecodeError as error:
        raise JSONFormatError(
            f"not valid JSON: {error.msg} (line {error.lineno}, column {error.colno})"
        ) from None
    except _Refused as refused:
        raise JSONFormatError(f"not valid JSON: {refused}{_where(text, refused)}") from None
    except RecursionError:
        raise JSONFormatError(
            "the document is nested too deeply to be read (a graph document is at most "
            "five levels deep)"
        ) from None
    except (TypeError, UnicodeDecodeError) as error:
        raise JSONFormatError(f"not JSON text: {error}") from None
    return ir_from_document(document)


class _Refused(ValueError):
    """A token that Python's ``json`` would read but a graph document may not hold."""

    def __init__(self, message: str, token: str) -> None:
        super().__init__(message)
        self.token = token


_MAX_DIGITS = 4300  # Python's own limit for int(str); the text language has the same one


def _refuse_constant(name: str) -> Any:
    raise _Refused(f"{name} is not a JSON number (numbers in a graph are finite)", name)


def _integer(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_DIGITS:
        raise _Refused(
            f"an integer of {len(digits.lstrip('-')):,} digits is too large to be read",
            digits,
        )
    return int(digits)


# a JSON string (skipped), or the refused token outside strings
_TOKENS = re.compile(
    r'"(?:[^"\\]|\\.)*"|(?P<token>-?Infinity|NaN|-?[0-9]{' + str(_MAX_DIGITS + 1) + ",})"
)


def _where(text: str | bytes, refused: _Refused) -> str:
    """`` (line L, column C)`` of the first refused token, found only on error."""
    if isinstance(text, bytes):
        text = text.decode(json.detect_encoding(text), "replace")
    for match in _TOKENS.finditer(text):
        if match.group("token") is not None and match.group("token").startswith(refused.token[:20]):
            start = match.start("token")
            line = text.count("\n", 0, start) + 1
            column = start - text.rfind("\n", 0, start)
            return f" (line {line}, column {column})"
    return ""


def ir_from_document(document: Any) -> IR:
    """The IR of a document already decoded from JSON.

    Every field is checked before the IR is built: a malformed document
    raises ``JSONFormatError`` naming the field.
    """
    _require(isinstance(document, dict), "the document must be a JSON object")
    version = document.get("format_version")
    if type(version) is not int or version not in SUPPORTED_VERSIONS:
        supported = ", ".join(map(str, SUPPORTED_VERSIONS))
        raise JSONFormatError(
            f"unknown format_version {_show(version)}; this version of bngraph reads: {supported}"
            if "format_version" in document
            else f"the document has no format_version (this version of bngraph reads: {supported})"
        )
    if document.get("format", "bngraph") != "bngraph":
        raise JSONFormatError(f"not a bngraph document (format {_show(document.get('format'))})")
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
    try:
        return IR.from_specs(name, specs, outputs)
    except ParamError as error:  # a parameter the op does not take, or a value it refuses
        raise JSONFormatError(str(error)) from None


def _require(condition: bool, msg: str) -> None:
    if not condition:
        raise JSONFormatError(msg)


def _show(value: Any, limit: int = 40) -> str:
    """A value for a message, shortened when a hostile document makes it huge."""
    if type(value) is int and abs(value) >= 10**limit:
        return f"an integer of {len(str(abs(value)))} digits"
    text = repr(value)
    return text if len(text) <= limit else f"{text[:limit]}...({len(text)} characters)"


def _field(record: Any, key: str, kind: type, where: str) -> Any:
    _require(isinstance(record, dict), f"{where} must be a JSON object")
    _require(key in record, f"{where} has no field {key!r}")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is int:
        raise JSONFormatError(
            f"{where}: field {key!r} must be {_KINDS[kind]}, not {_kind(value)}"
        )
    return value


_KINDS = {dict: "an object", list: "a list", str: "a string", int: "an integer"}


def _kind(value: Any) -> str:
    """The JSON kind of a decoded value, for a message."""
    kinds = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "an integer", float: "a number with a fraction", type(None): "null"}
    return kinds.get(type(value), type(value).__name__)


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
        where = f"node {node['id']!r}"
        slots[node["id"]] = {
            _position(k, where): _number(v, f"{where}: literal operand {k}")
            for k, v in literals.items()
        }
    for edge in edges:
        source = _field(edge, "source", str, "an edge")
        target = _field(edge, "target", str, "an edge")
        key = _field(edge, "key", int, "an edge")
        for end in (source, target):
            _require(end in slots, f"an edge names {end!r}, which is not a node")
        _require(key not in slots[target],
                 f"node {target!r} has two operands at position {_show(key)}")
        slots[target][key] = source
    result: dict[str, list[str | float]] = {}
    for name, by_position in slots.items():
        _require(sorted(by_position) == list(range(len(by_position))),
                 f"node {name!r}: operand positions must be 0, 1, ... without gaps")
        result[name] = [by_position[i] for i in range(len(by_position))]
    return result


_POSITION = re.compile(r"0|[1-9][0-9]{0,8}")  # ASCII digits only: str.isdigit takes "²"


def _position(key: str, where: str) -> int:
    _require(_POSITION.fullmatch(key) is not None,
             f"{where}: literal positions must be non-negative integers, not {_show(key)}")
    return int(key)


def _number(value: Any, where: str) -> float:
    """A number operand or default: int or float, and a finite float (as in the text)."""
    _require(isinstance(value, (int, float)) and not isinstance(value, bool),
             f"{where} must be a number, not {_show(value)}")
    _require(_finite(value), f"{where} must be a finite float, not {_show(value)}")
    return float(value)


def _finite(value: int | float) -> bool:
    try:
        return math.isfinite(float(value))
    except OverflowError:  # an int beyond the range of floats
        return False


def _spec(node: dict[str, Any], operands: list[str | float]) -> NodeSpec:
    where = f"node {node['id']!r}"
    op = _field(node, "op", str, where)
    params = _field(node, "params", dict, where)
    stage = node.get("stage")
    _require(stage is None or isinstance(stage, str), f"{where}: stage must be a string or null")
    restored = _input_params(params, where) if op == INPUT else _params(params, where)
    return NodeSpec(node["id"], op, tuple(operands), restored, stage)


def _params(params: dict[str, Any], where: str) -> dict[str, Any]:
    """An op's parameters, as the text language writes them: int, finite float, bool,
    null, a string, or a list of ints or of lists of ints (a tuple in the graph). The
    op then checks each against what it takes."""
    restored: dict[str, Any] = {}
    for key, value in params.items():
        field = f"{where}: parameter {key!r}"
        if isinstance(value, list):
            restored[key] = _int_tuple(value, field)
        elif value is None or isinstance(value, (bool, str)):
            restored[key] = value
        elif isinstance(value, (int, float)):
            _require(_finite(value), f"{field} must be a finite float, not {_show(value)}")
            restored[key] = value
        else:
            raise JSONFormatError(
                f"{field} must be an integer, a number, a boolean, null, a string or a list "
                f"of integers, not {_kind(value)}"
            )
    return restored


def _int_tuple(value: list[Any], field: str) -> tuple[Any, ...]:
    """A list of ints, or of lists of ints (``pad_width``), as nested tuples."""
    if value and all(isinstance(v, list) for v in value):
        return tuple(_int_tuple(v, field) for v in value)
    _require(all(type(v) is int and _finite(v) for v in value),
             f"{field} must be a list of integers, not {_show(value)}")
    return tuple(value)


def _input_params(params: dict[str, Any], where: str) -> dict[str, Any]:
    """An input's ``shape`` (a list of symbol names and sizes), ``default`` (a number)
    and ``grad`` (false for a constant)."""
    unknown = sorted(set(params) - {"shape", "default", "grad"})
    _require(not unknown, f"{where}: an input takes the parameters shape, default and grad, "
             f"not {', '.join(map(_show, unknown))}")
    restored: dict[str, Any] = {}
    if "shape" in params:
        shape = params["shape"]
        _require(isinstance(shape, list), f"{where}: parameter 'shape' must be a list of symbol "
                 f"names and sizes, not {_kind(shape)}")
        for dim in shape:
            _require(_dimension(dim), f"{where}: parameter 'shape' holds symbol names and "
                     f"sizes (integers >= 0), not {_show(dim)}")
        restored["shape"] = tuple(shape)
    if params.get("default") is not None:
        restored["default"] = _number(params["default"], f"{where}: parameter 'default'")
    elif "default" in params:
        restored["default"] = None
    if "grad" in params:
        _require(isinstance(params["grad"], bool),
                 f"{where}: parameter 'grad' must be true or false, not {_show(params['grad'])}")
        restored["grad"] = params["grad"]
    return restored


def _dimension(dim: Any) -> bool:
    """A size (an int >= 0) or a symbol the text language can write (``N``, ``D2``)."""
    if isinstance(dim, str):
        return (dim.isidentifier() and not keyword.iskeyword(dim) and not dim.startswith("_")
                and dim not in LANGUAGE_KEYWORDS)
    return type(dim) is int and dim >= 0
