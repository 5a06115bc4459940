"""The line frame of the text language: which line is which statement, in which stage.

A ``.bng`` text is line-oriented: every non-blank, non-comment line is one
statement (``graph``, ``input``, ``stage``, ``output`` or ``NAME = EXPR``), and
the lines indented under ``stage "LABEL":`` belong to that stage. This module
cuts the text into ``Statement`` records; the Python-syntax part of each (an
expression, an assignment) is left to ``bngraph.dsl.statements``.

>>> [(s.kind, s.text, s.stage) for s in split_statements('input x\\nstage "1": y = -x\\n')]
[('input', 'x', None), ('assign', 'y = -x', '1')]
"""

from __future__ import annotations

import ast
import re
import warnings
from collections.abc import Iterator
from dataclasses import dataclass

from .errors import DSLLimitError, DSLSyntaxError

__all__ = ["Statement", "Source", "split_statements", "MAX_CHARS"]

MAX_CHARS = 500_000
"""The default limit on the size of a text (some 15,000 nodes): a larger one is
refused at once rather than read for seconds; ``parse(..., max_chars=...)`` raises it."""

_KEYWORD = re.compile(r"(graph|input|stage|output)(?![\w])")
_STRING = re.compile(r"\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*'")


@dataclass(frozen=True)
class Source:
    """Where statements come from: the file name and its lines, for error messages."""

    filename: str
    lines: tuple[str, ...]

    def error(
        self, cls: type[DSLSyntaxError], msg: str, line: int, column: int
    ) -> DSLSyntaxError:
        """An error of class ``cls`` at ``line``/``column`` (from 1), quoting the line."""
        text = self.lines[line - 1] if 0 < line <= len(self.lines) else ""
        return cls(msg, self.filename, line, column, text)


@dataclass(frozen=True)
class Statement:
    """One statement: its kind, its Python-syntax text and where that text starts.

    ``column`` is the 0-based character offset of ``text`` in source line ``line``;
    ``stage`` is the label of the enclosing stage (``None`` outside stages).
    """

    kind: str
    text: str
    line: int
    column: int
    stage: str | None = None


@dataclass
class _Block:
    label: str
    line: int
    inline: bool
    indent: str | None = None
    count: int = 0


def split_statements(text: str, filename: str = "<string>",
                     max_chars: int = MAX_CHARS) -> list[Statement]:
    """Cut ``text`` into statements; raises ``DSLSyntaxError`` for a malformed frame."""
    if len(text) > max_chars:
        raise DSLLimitError(
            f"the text has {len(text):,} characters, more than the limit of {max_chars:,}; "
            "pass max_chars= to read it anyway",
            filename, 1, 1, text[:200].split("\n", 1)[0],
        )
    return list(_statements(Source(filename, tuple(text.split("\n")))))


def _statements(source: Source) -> Iterator[Statement]:
    block: _Block | None = None
    for number, raw in enumerate(source.lines, 1):
        body = raw.rstrip()
        stripped = body.lstrip(" \t")
        if not stripped or stripped.startswith("#"):
            continue
        indent = body[: len(body) - len(stripped)]
        if indent:
            _check_block(source, block, indent, number)
            assert block is not None
            block.count += 1
            yield _classify(source, stripped, number, len(indent), block.label, in_block=True)
            continue
        _close(source, block)
        block = None
        statement = _classify(source, stripped, number, 0, None, in_block=False)
        if statement.kind != "stage":
            yield statement
            continue
        block, inline = _open_stage(source, statement)
        if inline is not None:
            yield inline
    _close(source, block)


def _check_block(source: Source, block: _Block | None, indent: str, line: int) -> None:
    if block is None or block.inline:
        why = (f"stage {block.label!r} on line {block.line} already has its statement on "
               "the same line" if block else "only the statements of a stage block are indented")
        raise source.error(DSLSyntaxError, f"unexpected indentation: {why}", line, 1)
    if block.indent is None:
        block.indent = indent
    elif indent != block.indent:
        raise source.error(
            DSLSyntaxError,
            f"inconsistent indentation in stage {block.label!r}: its block is indented "
            f"with {_describe_indent(block.indent)}, this line with {_describe_indent(indent)}",
            line, 1,
        )


def _describe_indent(indent: str) -> str:
    spaces, tabs = indent.count(" "), indent.count("\t")
    parts = [f"{spaces} space(s)"] * bool(spaces) + [f"{tabs} tab(s)"] * bool(tabs)
    return " and ".join(parts)


def _close(source: Source, block: _Block | None) -> None:
    if block is not None and not block.inline and block.count == 0:
        raise source.error(
            DSLSyntaxError,
            f"stage {block.label!r} has an empty block: indent its statements under it",
            block.line, 1,
        )


def _classify(source: Source, text: str, line: int, column: int, stage: str | None,
              *, in_block: bool) -> Statement:
    match = _KEYWORD.match(text)
    if match is None:
        return Statement("assign", text, line, column, stage)
    keyword = match.group(1)
    rest = text[match.end():]
    if re.match(r"\s*=(?!=)", rest):
        raise source.error(
            DSLSyntaxError,
            f"{keyword!r} is a keyword of the language and cannot name a node",
            line, column + 1,
        )
    if in_block and keyword not in ("input",):
        raise source.error(
            DSLSyntaxError,
            f"{keyword!r} is not allowed inside a stage block; a block holds "
            "assignments (NAME = EXPR) and input declarations",
            line, column + 1,
        )
    offset = len(rest) - len(rest.lstrip())
    if keyword != "stage" and (not rest.strip() or offset == 0):
        raise source.error(
            DSLSyntaxError,
            f"{keyword!r} needs {_NEEDS[keyword]} after it, separated by a space",
            line, column + match.end() + 1,
        )
    return Statement(keyword, rest.lstrip(), line, column + match.end() + offset, stage)


_NEEDS = {
    "graph": "the graph's name",
    "input": "an input name (input NAME[dims] = default)",
    "output": "one or more node names",
}


def _open_stage(source: Source, statement: Statement) -> tuple[_Block, Statement | None]:
    """Read ``stage "LABEL":`` and what follows the colon, if anything."""
    text, line, column = statement.text, statement.line, statement.column
    match = _STRING.match(text)
    if match is None:
        raise source.error(
            DSLSyntaxError, 'a stage needs a quoted label: stage "LABEL":', line, column + 1
        )
    try:
        label = _string_value(match.group(0))
    except (SyntaxError, ValueError, Warning) as error:
        why = error.msg if isinstance(error, SyntaxError) else str(error)
        raise source.error(
            DSLSyntaxError, f"the stage label is not a valid string: {why}", line, column + 1
        ) from None
    if not label:
        raise source.error(DSLSyntaxError, "a stage label cannot be empty", line, column + 1)
    after = text[match.end():]
    stripped = after.lstrip()
    colon = column + match.end() + len(after) - len(stripped)
    if not stripped.startswith(":"):
        raise source.error(
            DSLSyntaxError, f"expected ':' after the stage label {label!r}", line, colon + 1
        )
    rest = stripped[1:].lstrip()
    if not rest or rest.startswith("#"):
        return _Block(label, line, inline=False), None
    start = colon + 1 + len(stripped) - 1 - len(rest)
    inline = _classify(source, rest, line, start, label, in_block=True)
    return _Block(label, line, inline=True), inline


def _string_value(literal: str) -> str:
    """The value of a quoted label: the parser reads the escapes, nothing is evaluated."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an invalid escape is an error here, not a warning
        node = ast.parse(literal, mode="eval").body
    assert isinstance(node, ast.Constant) and isinstance(node.value, str)
    return node.value
