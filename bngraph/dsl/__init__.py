"""The text language (``.bng``) and the JSON form of graphs.

``parse``/``load`` read text, ``to_dsl``/``save`` write it, ``to_json``/``from_json``
convert to and from networkx's node-link layout, and ``same_graph`` compares two
graphs node by node.
"""

from .errors import (
    DSLGraphError, DSLLimitError, DSLNameError, DSLNotAllowedError, DSLPrintError,
    DSLSyntaxError, JSONFormatError,
)
from .parser import load, parse

__all__ = [
    "parse", "load",
    "DSLSyntaxError", "DSLNotAllowedError", "DSLNameError", "DSLGraphError", "DSLLimitError",
    "DSLPrintError", "JSONFormatError",
]
