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


# Control characters are not valid in SVG (XML) text: they are shown as ``\xNN``.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(32), 127)}
_ID = str.maketrans({**_CONTROLS, "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r"})
_HTML = str.maketrans({
    **_CONTROLS, "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\n": "<BR/>",
})
_STRING = str.maketrans({**_CONTROLS, "\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\n"})


def quote_id(name: str) -> str:
    """A DOT id for ``name``: always quoted; distinct names give distinct ids.

    Backslashes and quotes are escaped and a newline is written as ``\\n`` (two
    characters), so each id stays on one line and the mapping is one-to-one.

    >>> quote_id("a\\\\") != quote_id("a\\n")
    True
    """
    return '"' + name.translate(_ID) + '"'


def html_text(text: str) -> str:
    """Text for a cell of an HTML-like label: markup characters become entities,
    newlines become line breaks.

    >>> html_text('x"\\ny')
    'x&quot;<BR/>y'
    """
    return text.translate(_HTML)


def esc_string(text: str) -> str:
    """A quoted DOT attribute value (tooltips): backslashes and quotes escaped,
    newlines as ``\\n`` (which Graphviz shows as line breaks)."""
    return '"' + text.translate(_STRING) + '"'
