"""The text language (``.bng``) and the JSON form of graphs.

``parse``/``load`` read text, ``to_dsl``/``save`` write it, ``to_json``/``from_json``
convert to and from networkx's node-link layout, and ``same_graph`` compares two
graphs node by node.
"""

from .equality import differences, same_graph
from .errors import (
    DSLGraphError,
    DSLLimitError,
    DSLNameError,
    DSLNotAllowedError,
    DSLPrintError,
    DSLSyntaxError,
    JSONFormatError,
)
from .files import GraphFileError, from_json, load, save
from .json_format import FORMAT_VERSION, to_json
from .parser import parse
from .printer import to_dsl

__all__ = [
    "parse", "load", "save", "to_dsl", "to_json", "from_json", "FORMAT_VERSION",
    "same_graph", "differences", "GraphFileError",
    "DSLSyntaxError", "DSLNotAllowedError", "DSLNameError", "DSLGraphError", "DSLLimitError",
    "DSLPrintError", "JSONFormatError",
]
