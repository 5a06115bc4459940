"""The errors of the text language and of the file formats.

A ``DSLSyntaxError`` knows where it happened: ``filename``, ``line`` and
``column`` (both counted from 1) and the offending source line. ``str(error)``
shows the line with a caret under the column; ``one_line()`` gives the
``file:line:column: message`` form a command line prints.

>>> error = DSLSyntaxError("unknown op 'maen'", "g.bng", 3, 10, "    mu = maen(x)")
>>> print(error)
g.bng:3:10: unknown op 'maen'
    mu = maen(x)
         ^
>>> error.one_line()
"g.bng:3:10: unknown op 'maen'"
"""

from __future__ import annotations

from ..errors import BngraphError

__all__ = [
    "DSLSyntaxError",
    "DSLNotAllowedError",
    "DSLNameError",
    "DSLGraphError",
    "DSLLimitError",
    "DSLPrintError",
    "JSONFormatError",
    "clip",
]

_SHOWN = 72  # characters of a long source line shown around the column


class DSLSyntaxError(BngraphError, ValueError):
    """A ``.bng`` text that is not a valid graph, with its file, line and column."""

    def __init__(
        self, msg: str, filename: str, line: int, column: int, source_line: str = ""
    ) -> None:
        super().__init__(msg, filename, line, column, source_line)
        self.msg = msg
        self.filename = filename
        self.line = line
        self.column = column
        self.source_line = source_line

    def one_line(self) -> str:
        """``file:line:column: message``, for places that print one line per error."""
        return f"{self.filename}:{self.line}:{self.column}: {self.msg}"

    def __str__(self) -> str:
        text, caret = _excerpt(self.source_line, self.column)
        if not text.strip():
            return self.one_line()
        return f"{self.one_line()}\n{text}\n{' ' * caret}^"


class DSLNotAllowedError(DSLSyntaxError):
    """A construct outside the language: attribute access, imports, lambdas, ..."""


class DSLNameError(DSLSyntaxError):
    """An undefined or misspelled name, an unknown op, or a name defined twice."""


class DSLGraphError(DSLSyntaxError):
    """A statement the graph builder rejects (wrong arity, bad parameter, ...)."""


class DSLLimitError(DSLSyntaxError):
    """A text too large or an expression nested too deeply to be read safely."""


class DSLPrintError(BngraphError, ValueError):
    """A graph that cannot be written as ``.bng`` text (a name that is not an identifier...)."""


class JSONFormatError(BngraphError, ValueError):
    """A JSON graph document that is malformed or of an unknown format version."""


def _excerpt(source_line: str, column: int) -> tuple[str, int]:
    """The source line (a window of it when long) and the caret's position in it."""
    line = source_line.rstrip("\r\n").expandtabs(1)
    index = max(column - 1, 0)
    if len(line) <= _SHOWN:
        return line, index
    start = max(0, index - _SHOWN // 2)
    end = min(len(line), start + _SHOWN)
    prefix = "..." if start else ""
    suffix = "..." if end < len(line) else ""
    return prefix + line[start:end] + suffix, len(prefix) + index - start


def clip(name: str, limit: int = 40) -> str:
    """A name quoted for a message, shortened when a hostile text makes it huge.

    >>> clip("x"), clip("a" * 100)[-8:]
    ("'x'", '...(100)')
    """
    if len(name) <= limit:
        return repr(name)
    return repr(name[:limit]) + f"...({len(name)})"
