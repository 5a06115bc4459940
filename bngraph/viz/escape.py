r"""Quoting for DOT: node ids, HTML-like labels and attribute strings.

Every piece of text that reaches DOT goes through one of these functions, so a
node name holding quotes, ``<``, ``&``, backslashes or newlines can neither break
the DOT syntax nor inject markup into the SVG that Graphviz writes from it.

>>> print(quote_id('say "hi"'))
"say \"hi\""
>>> print(quote_id("two\nlines"))
"two\nlines"
>>> html_text("a < b & c")
'a &lt; b &amp; c'
>>> print(esc_string('1\\2 "q"\nnext'))
"1\\2 \"q\"\nnext"
"""

from __future__ import annotations

__all__ = ["quote_id", "html_text", "esc_string"]


def _visible(char: str) -> str:
    """Control characters are not valid in SVG (XML) text: show them as ``\\xNN``."""
    return f"\\x{ord(char):02x}"


def quote_id(name: str) -> str:
    """A DOT id for ``name``: always quoted; distinct names give distinct ids.

    Backslashes and quotes are escaped and a newline is written as ``\\n`` (two
    characters), so each id stays on one line and the mapping is one-to-one.

    >>> quote_id("a\\\\") != quote_id("a\\n")
    True
    """
    out = []
    for char in name:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char == "\n":
            out.append("\\n")
        elif char == "\r":
            out.append("\\r")
        elif ord(char) < 32 or ord(char) == 127:
            out.append(_visible(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def html_text(text: str) -> str:
    """Text for a cell of an HTML-like label: markup characters become entities,
    newlines become line breaks.

    >>> html_text('x"\\ny')
    'x&quot;<BR/>y'
    """
    out = []
    for char in text:
        if char == "&":
            out.append("&amp;")
        elif char == "<":
            out.append("&lt;")
        elif char == ">":
            out.append("&gt;")
        elif char == '"':
            out.append("&quot;")
        elif char == "\n":
            out.append("<BR/>")
        elif ord(char) < 32 or ord(char) == 127:
            out.append(_visible(char))
        else:
            out.append(char)
    return "".join(out)


def esc_string(text: str) -> str:
    """A quoted DOT attribute value (tooltips): backslashes and quotes escaped,
    newlines as ``\\n`` (which Graphviz shows as line breaks)."""
    out = []
    for char in text:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif char in "\r\n":
            out.append("\\n")
        elif ord(char) < 32 or ord(char) == 127:
            out.append(_visible(char))
        else:
            out.append(char)
    return '"' + "".join(out) + '"'
