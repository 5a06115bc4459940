"""Graph files by suffix, ``.bng`` text or ``.json`` documents: the one ``load``.

>>> import tempfile, pathlib, bngraph as bg
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> g = bg.library.get("batchnorm")
>>> g.save(folder / "bn.bng"); g.save(folder / "bn.json")
>>> bg.load(folder / "bn.json").to_dsl() == bg.load(folder / "bn.bng").to_dsl()
True
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import BngraphError
from ..graph import Graph
from ..schedule import Planned
from .errors import DSLLimitError, DSLSyntaxError
from .frame import MAX_CHARS
from .json_format import ir_from_json, to_json
from .parser import parse
from .printer import to_dsl

__all__ = ["load", "save", "from_json", "SUFFIXES"]

SUFFIXES = (".bng", ".json")


class GraphFileError(BngraphError, ValueError):
    """A graph file path with a suffix that names no graph format."""


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise GraphFileError(
            f"{str(path)!r}: unknown graph file suffix {suffix or '(none)'!r}; "
            f"graph files end in {' or '.join(SUFFIXES)}"
        )
    return suffix


def load(path: str | os.PathLike[str], *, max_chars: int = MAX_CHARS) -> Graph:
    """Read a graph file: ``.bng`` text (UTF-8, through the parser; a text without
    ``graph NAME`` is named after the file) or a ``.json`` document.

    The ops that installed packages declare in the entry point group ``bngraph.ops``
    are loaded first, so that a file may use them.
    """
    from ..plugins import load_entry_points

    load_entry_points()
    path = Path(path)
    if _suffix(path) == ".json":
        return from_json(path.read_bytes())
    size = path.stat().st_size
    if size > 4 * max_chars:  # refuse before reading a huge file (UTF-8: 4 bytes a character)
        raise DSLLimitError(
            f"the file has {size:,} bytes, more than the limit of {max_chars:,} characters; "
            "pass max_chars= to read it anyway",
            str(path), 1, 1,
        )
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as error:
        raise DSLSyntaxError(
            f"the file is not UTF-8 text ({error.reason} at byte {error.start})",
            str(path), 1, 1,
        ) from None
    return parse(text, str(path), max_chars=max_chars)


def from_json(text: str | bytes) -> Graph:
    """The graph of a JSON document written by ``to_json`` (frozen); a malformed
    document raises ``JSONFormatError``.

    >>> import bngraph as bg
    >>> text = bg.library.get("batchnorm").to_json()
    >>> from_json(text).to_json() == text
    True
    """
    return Graph.from_ir(ir_from_json(text))


def save(graph: Planned, path: str | os.PathLike[str]) -> None:
    """Write ``graph`` to ``path`` as ``.bng`` text or a ``.json`` document (UTF-8)."""
    path = Path(path)
    text = to_json(graph.plan) if _suffix(path) == ".json" else to_dsl(graph)
    path.write_text(text, encoding="utf-8")
