"""Where one statement's Python-syntax text sits in its file, and reading it with ``ast``.

``Place`` turns positions inside a statement's text (``ast`` counts UTF-8 bytes
from 0, ``SyntaxError`` characters from 1) into the file's line and column, and
``Place.parse`` reads the text with the standard ``ast`` module, turning the
parser's own failures (syntax, nesting too deep, memory) into ``DSLSyntaxError``.
Nothing is compiled to code or run.

>>> from bngraph.dsl.frame import Source, Statement
>>> place = Place(Source("g.bng", ("    y = x +",)), Statement("assign", "y = x +", 1, 4))
>>> try:
...     place.parse()
... except DSLSyntaxError as error:
...     print(error.one_line())
g.bng:1:12: invalid syntax
"""

from __future__ import annotations

import ast
import warnings
from dataclasses import dataclass

from .errors import DSLLimitError, DSLSyntaxError
from .frame import Source, Statement

__all__ = ["Place"]


@dataclass(frozen=True)
class Place:
    """A statement and its source, for reading the statement and locating errors in it."""

    source: Source
    statement: Statement

    def error(
        self, cls: type[DSLSyntaxError], msg: str, node: ast.AST | None = None
    ) -> DSLSyntaxError:
        """An error at ``node`` (an ``ast`` node of this statement), or at the statement."""
        offset = 0
        if node is not None and hasattr(node, "col_offset"):
            offset = self._chars(node.col_offset)
        return self.at(cls, msg, offset)

    def at(self, cls: type[DSLSyntaxError], msg: str, offset: int) -> DSLSyntaxError:
        """An error ``offset`` characters into the statement's text."""
        return self.source.error(
            cls, msg, self.statement.line, self.statement.column + offset + 1
        )

    def _chars(self, byte_offset: int) -> int:
        text = self.statement.text
        if text.isascii():
            return byte_offset
        return len(text.encode("utf-8")[:byte_offset].decode("utf-8", "replace"))

    def parse(self) -> ast.stmt:
        """The statement's text as one ``ast`` statement (never evaluated)."""
        text = self.statement.text
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # invalid escapes and the like are errors
                module = ast.parse(text, filename=self.source.filename, mode="exec")
        except SyntaxError as error:
            raise self._syntax_error(error) from None
        except (RecursionError, MemoryError):
            raise self.at(
                DSLLimitError,
                "the expression is nested too deeply to be read (Python's parser gave up); "
                "split it into several assignments",
                0,
            ) from None
        except (ValueError, Warning) as error:  # null bytes, integers of too many digits
            raise self.at(DSLSyntaxError, f"cannot read this statement: {error}", 0) from None
        if not module.body:
            raise self.at(DSLSyntaxError, "expected a statement", 0)
        if len(module.body) > 1:
            raise self.error(
                DSLSyntaxError, "one statement per line: ';' is not allowed", module.body[1]
            )
        return module.body[0]

    def _syntax_error(self, error: SyntaxError) -> DSLSyntaxError:
        msg = error.msg or "invalid syntax"
        if "nested" in msg or "too many" in msg:
            return self.at(DSLLimitError, f"{msg}; split the expression into assignments", 0)
        if error.lineno not in (None, 1):
            # a bracket left open runs into the text's end: report it on this line
            return self.at(DSLSyntaxError, msg, len(self.statement.text))
        offset = max((error.offset or 1) - 1, 0)
        return self.at(DSLSyntaxError, msg, min(offset, len(self.statement.text)))
