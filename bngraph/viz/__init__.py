"""Drawing graphs and runs: DOT text, rendered files, the collapsed view, checks and
comparisons painted on graphs, and the step-by-step viewer.

>>> import bngraph as bg
>>> digraph = bg.library.get("batchnorm").to_graphviz(view="backward")
>>> digraph.source.count('dir=back') > 10
True
"""

from .collapse import collapsed_view
from .compare_view import compare_graphviz, render_compare
from .dot import COLLAPSE_THRESHOLD, VIEWS, VizError, formula, to_graphviz
from .render import FORMATS, GraphvizNotFoundError, mimebundle, render
from .viewer import render_steps

__all__ = [
    "to_graphviz",
    "render",
    "render_steps",
    "render_compare",
    "compare_graphviz",
    "collapsed_view",
    "formula",
    "mimebundle",
    "VizError",
    "GraphvizNotFoundError",
    "VIEWS",
    "FORMATS",
    "COLLAPSE_THRESHOLD",
]
