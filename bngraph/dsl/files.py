"""Graph files by suffix: ``.bng`` text or ``.json`` documents.

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
from . import parser
from .frame import MAX_CHARS
from .json_format import from_json, to_json
from .printer import to_dsl

__all__ = ["load", "save", "SUFFIXES"]

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
    """Read a graph file: ``.bng`` text (through the parser) or a ``.json`` document.

    The ops that installed packages declare in the entry point group ``bngraph.ops``
    are loaded first, so that a file may use them.
    """
    from ..plugins import load_entry_points

    load_entry_points()
    path = Path(path)
    if _suffix(path) == ".json":
        return from_json(path.read_bytes())
    return parser.load(path, max_chars=max_chars)


def save(graph: Graph, path: str | os.PathLike[str]) -> None:
    """Write ``graph`` to ``path`` as ``.bng`` text or a ``.json`` document (UTF-8)."""
    path = Path(path)
    text = to_json(graph) if _suffix(path) == ".json" else to_dsl(graph)
    path.write_text(text, encoding="utf-8")
