"""Reading ``.bng`` text into a ``Graph``: ``parse(text)`` (``bngraph.load`` reads files).

Each statement found by ``bngraph.dsl.frame`` is read with the standard ``ast``
module and checked against an allow-list (``bngraph.dsl.expressions``); the graph
is then made through the Python builder, exactly as the same lines written in
Python would make it. Nothing in the text is ever executed.

>>> import bngraph as bg
>>> g = bg.parse('''
... graph scale
... input x[N]
... stage "1 scale":
...     y = 2 * x
... output y
... ''')
>>> g.nodes[1]
NodeSpec(name='y', op='mul', operands=(2.0, 'x'), params=mappingproxy({}), stage='1 scale')
"""

from __future__ import annotations

import ast
import re
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import BngraphError, closest
from ..graph import Graph, Node
from .errors import (
    DSLGraphError,
    DSLNameError,
    DSLNotAllowedError,
    DSLSyntaxError,
    clip,
)
from .expressions import build_node, check_name, number
from .frame import MAX_CHARS, Source, Statement, split_statements
from .place import Place

__all__ = ["parse", "DEFAULT_GRAPH_NAME"]

DEFAULT_GRAPH_NAME = "graph"
"""The name of a graph whose text has no ``graph NAME`` line (``load`` uses the file's stem)."""

_STATEMENT_NAMES: dict[type, str] = {
    ast.Import: "imports are", ast.ImportFrom: "imports are",
    ast.FunctionDef: "function definitions are", ast.AsyncFunctionDef: "function definitions are",
    ast.ClassDef: "class definitions are", ast.Return: "return is", ast.Delete: "del is",
    ast.For: "loops are", ast.AsyncFor: "loops are", ast.While: "loops are",
    ast.If: "if statements are", ast.With: "with statements are",
    ast.AsyncWith: "with statements are", ast.Raise: "raise is", ast.Try: "try statements are",
    ast.Assert: "assert is", ast.Global: "global is", ast.Nonlocal: "nonlocal is",
    ast.Pass: "pass is", ast.Break: "break is", ast.Continue: "continue is",
    ast.AugAssign: "augmented assignment (+=) is", ast.AnnAssign: "annotations are",
    ast.Match: "match statements are",
}


def parse(text: str, filename: str = "<string>", *, max_chars: int = MAX_CHARS) -> Graph:
    """The graph that a ``.bng`` text describes; raises ``DSLSyntaxError`` with file/line/column.

    Texts longer than ``max_chars`` characters are refused at once.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse() takes the text of a .bng file as str, not {type(text).__name__}")
    text = text.removeprefix("\ufeff")  # a byte-order mark some editors write
    statements = split_statements(text, filename, max_chars)
    source = Source(filename, tuple(text.split("\n")))
    return _Reader(source, _graph_name(filename)).read(statements)


def _graph_name(filename: str) -> str:
    stem = Path(filename).stem
    if filename.startswith("<") or not stem:
        return DEFAULT_GRAPH_NAME
    return stem


@dataclass
class _Reader:
    """The state of one parse: the graph so far and the names it defines."""

    source: Source
    default_name: str
    graph: Graph | None = None
    symbols: dict[str, Node] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    outputs: list[tuple[str, Place, ast.AST]] = field(default_factory=list)
    named_on: int | None = None

    def read(self, statements: list[Statement]) -> Graph:
        for statement in statements:
            place = Place(self.source, statement)
            if statement.kind == "graph":
                self._name(place)
                continue
            graph = self._graph()
            if statement.kind == "input":
                self._input(place, graph)
            elif statement.kind == "output":
                self._output(place)
            else:
                self._assign(place, graph)
        return self._finish(statements)

    def _graph(self) -> Graph:
        if self.graph is None:
            self.graph = Graph(self.default_name)
        return self.graph

    # ---------------------------------------------------------------- statements

    def _name(self, place: Place) -> None:
        line = place.statement.line
        if self.named_on is not None:
            raise place.at(DSLSyntaxError, f"the graph is already named on line {self.named_on}", 0)
        if self.graph is not None:
            raise place.at(DSLSyntaxError, "'graph NAME' must come before every other statement", 0)
        node = _expression(place)
        if isinstance(node, ast.Name):
            name = node.id
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value:
            name = node.value
        else:
            raise place.error(
                DSLSyntaxError, 'a graph name is a name or a quoted string: graph NAME', node
            )
        self.named_on = line
        self.graph = Graph(name)

    def _input(self, place: Place, graph: Graph) -> None:
        blanked, constant = _blank_const(place.statement.text)
        blanked, scalar = _blank_empty_brackets(blanked)
        if scalar or constant:
            place = Place(place.source, _replace_text(place.statement, blanked))
        statement = place.parse()
        default: Any = None
        target: ast.expr
        if isinstance(statement, ast.Assign) and len(statement.targets) == 1:
            target = statement.targets[0]
            default = _default(place, statement.value)
        elif isinstance(statement, ast.Expr):
            target = statement.value
        else:
            raise place.error(DSLSyntaxError, _INPUT_FORMS, statement)
        shape: tuple[Any, ...] | None = () if scalar else None
        if isinstance(target, ast.Subscript) and not scalar:
            shape = _shape(place, target.slice)
            target = target.value
        if not isinstance(target, ast.Name):
            raise place.error(DSLSyntaxError, _INPUT_FORMS, target)
        self._define(place, target)
        try:
            with _stage(graph, place.statement.stage):
                self.symbols[target.id] = graph.input(
                    target.id, shape=shape, default=default, grad=not constant)
        except BngraphError as error:
            raise place.error(DSLGraphError, str(error), target) from None

    def _output(self, place: Place) -> None:
        node = _expression(place)
        names = node.elts if isinstance(node, ast.Tuple) else [node]
        for item in names:
            if not isinstance(item, ast.Name):
                raise place.error(
                    DSLSyntaxError, "output takes node names: output NAME[, NAME...]", item
                )
            if item.id not in self.symbols:
                raise place.error(
                    DSLNameError,
                    f"undefined name {clip(item.id)}{closest(item.id, self.symbols)}; "
                    "output names a node defined above",
                    item,
                )
            if any(item.id == seen for seen, _, _ in self.outputs):
                raise place.error(DSLSyntaxError, f"{item.id!r} is already an output", item)
            self.outputs.append((item.id, place, item))

    def _assign(self, place: Place, graph: Graph) -> None:
        statement = place.parse()
        if not isinstance(statement, ast.Assign):
            raise place.error(DSLNotAllowedError, _statement_message(statement), statement)
        if len(statement.targets) > 1:
            raise place.error(
                DSLNotAllowedError,
                "chained assignment (a = b = ...) is not allowed; assign one name per line",
                statement.targets[1],
            )
        target = statement.targets[0]
        if not isinstance(target, ast.Name):
            what = {ast.Tuple: "unpacking (a, b = ...)", ast.List: "unpacking ([a, b] = ...)",
                    ast.Attribute: "attribute access (a.b)", ast.Subscript: "subscripts (a[i])",
                    ast.Starred: "unpacking (*a)"}.get(type(target), "this target")
            raise place.error(
                DSLNotAllowedError, f"{what} is not allowed; assign one name: NAME = EXPR", target
            )
        self._define(place, target)
        with _stage(graph, place.statement.stage):
            node = build_node(place, statement.value, graph, self.symbols, target.id)
        self.symbols[target.id] = node

    # ---------------------------------------------------------------- helpers

    def _define(self, place: Place, target: ast.Name) -> None:
        check_name(place, target.id, target, "a node name")
        if target.id in self.lines:
            raise place.error(
                DSLNameError,
                f"{clip(target.id)} is already defined on line {self.lines[target.id]}; "
                "each name is assigned once",
                target,
            )
        self.lines[target.id] = place.statement.line

    def _finish(self, statements: list[Statement]) -> Graph:
        graph = self._graph()
        if not self.outputs:
            line = statements[-1].line if statements else 1
            raise self.source.error(
                DSLSyntaxError, "the graph has no output: add a line 'output NAME'", line, 1
            )
        for name, place, node in self.outputs:
            try:
                graph.output(name)
            except BngraphError as error:
                raise place.error(DSLGraphError, str(error), node) from None
        return graph


_INPUT_FORMS = (
    "expected input NAME, input NAME[dims] or input NAME[dims] = number, "
    "then const for a constant"
)


def _expression(place: Place) -> ast.expr:
    statement = place.parse()
    if not isinstance(statement, ast.Expr):
        raise place.error(DSLSyntaxError, _statement_message(statement), statement)
    return statement.value


def _statement_message(statement: ast.stmt) -> str:
    if isinstance(statement, ast.Expr):
        return "an expression alone does nothing: assign it, NAME = EXPR"
    what = _STATEMENT_NAMES.get(type(statement), f"{type(statement).__name__} is")
    return f"{what} not allowed; a line holds NAME = EXPR"


def _default(place: Place, node: ast.expr) -> float | None:
    if isinstance(node, ast.Constant) and node.value is None:
        return None
    return float(number(place, node, "an input's default"))  # number() refuses inf and huge ints


def _shape(place: Place, node: ast.expr) -> tuple[Any, ...]:
    items = node.elts if isinstance(node, ast.Tuple) else [node]
    dims: list[Any] = []
    for item in items:
        if isinstance(item, ast.Name):
            check_name(place, item.id, item, "a dimension")
            dims.append(item.id)
        elif isinstance(item, ast.Constant) and type(item.value) is int and item.value >= 0:
            dims.append(item.value)
        else:
            raise place.error(
                DSLSyntaxError,
                "a shape holds symbol names and sizes (ints >= 0): input x[N, 3]", item,
            )
    return tuple(dims)


def _blank_empty_brackets(text: str) -> tuple[str, bool]:
    """``x[]`` (a scalar) is not Python syntax: read it as ``x`` with shape ``()``."""
    match = re.match(r"(\s*\w+\s*)(\[\s*\])", text)
    if match is None:
        return text, False
    start, end = match.span(2)
    return text[:start] + " " * (end - start) + text[end:], True


_CONST = re.compile(r"\s(const)\s*(?=#|$)")


def _blank_const(text: str) -> tuple[str, bool]:
    """``input labels[N] const``: the word that ends a constant's declaration is not
    Python syntax; read the line without it (columns unchanged)."""
    match = _CONST.search(text)
    if match is None:
        return text, False
    start, end = match.span(1)
    return text[:start] + " " * (end - start) + text[end:], True


def _replace_text(statement: Statement, text: str) -> Statement:
    return Statement(statement.kind, text, statement.line, statement.column, statement.stage)


def _stage(graph: Graph, label: str | None) -> AbstractContextManager[None]:
    """The builder's ``with g.stage(label)``, or nothing outside stages."""
    return graph.stage(label) if label is not None else nullcontext()
