"""``Node``: the builder's handle on one node; its operators add new nodes.

>>> import bngraph as bg
>>> g = bg.Graph("g"); x = g.input("x")
>>> y = (2 * x + 1).named("y")
>>> y, g.spec("y").operands
(<Node 'y' add>, ('mul_1', 1.0))
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Union

from .errors import BngraphError, GraphDefinitionError
from .ops import get_op

if TYPE_CHECKING:
    from .graph import Graph

__all__ = ["Node"]

Operand = Union["Node", float, int]


class Node:
    """A handle on one node of a graph being built; operators build new nodes.

    Python numbers may stand on either side of ``+ - * /``; ``**`` takes a
    constant exponent; ``x[1:3, ..., 0]`` takes a constant index.
    """

    __slots__ = ("graph", "index")
    __array_ufunc__ = None  # numpy defers to our reflected operators

    def __init__(self, graph: Graph, index: int) -> None:
        self.graph = graph
        self.index = index

    @property
    def name(self) -> str:
        return self.graph.draft.names[self.index]

    @property
    def op(self) -> str:
        return self.graph.draft.ops[self.index]

    @property
    def stage(self) -> str | None:
        return self.graph.draft.stages[self.index]

    @property
    def params(self) -> Mapping[str, Any]:
        return self.graph.draft.params[self.index]

    def named(self, name: str) -> Node:
        """Give this node a name (returns the node itself)."""
        self.graph.rename(self.index, name)
        return self

    def __repr__(self) -> str:
        shape = self.params.get("shape")
        suffix = "" if shape is None else " (" + ", ".join(map(str, shape)) + ")"
        return f"<Node {self.name!r} {self.op}{suffix}>"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and other.graph is self.graph and other.index == self.index

    def __hash__(self) -> int:
        return hash((id(self.graph), self.index))

    def __bool__(self) -> bool:
        raise BngraphError(
            f"node {self.name!r} has no truth value while the graph is being built"
        )

    def _apply(self, op_name: str, *operands: Operand, **params: Any) -> Node:
        return self.graph.apply(get_op(op_name), operands, params)

    def __add__(self, other: Operand) -> Node:
        return self._apply("add", self, other)

    def __radd__(self, other: Operand) -> Node:
        return self._apply("add", other, self)

    def __sub__(self, other: Operand) -> Node:
        return self._apply("sub", self, other)

    def __rsub__(self, other: Operand) -> Node:
        return self._apply("sub", other, self)

    def __mul__(self, other: Operand) -> Node:
        return self._apply("mul", self, other)

    def __rmul__(self, other: Operand) -> Node:
        return self._apply("mul", other, self)

    def __truediv__(self, other: Operand) -> Node:
        return self._apply("div", self, other)

    def __rtruediv__(self, other: Operand) -> Node:
        return self._apply("div", other, self)

    def __matmul__(self, other: Node) -> Node:
        return self._apply("matmul", self, other)

    def __rmatmul__(self, other: Node) -> Node:
        return self._apply("matmul", other, self)

    def __neg__(self) -> Node:
        return self._apply("neg", self)

    def __pos__(self) -> Node:
        return self

    def __pow__(self, exponent: Any) -> Node:
        if isinstance(exponent, Node):
            raise GraphDefinitionError(
                f"{self.name} ** {exponent.name}: pow takes a constant exponent; "
                "write exp(y * log(x)) for a node exponent"
            )
        return self._apply("pow", self, exponent=exponent)

    def __getitem__(self, key: Any) -> Node:
        """A constant index of ints, slices and ``...``: ``x[1:3, :, ::2]``, ``x[..., 0]``."""
        from .ops.slicing import index_text

        return self._apply("getitem", self, index=index_text(key))

    def __iter__(self) -> Any:
        # without this, Python would iterate a node by indexing it 0, 1, 2, ... for ever
        raise TypeError(f"node {self.name!r} cannot be iterated while the graph is being built")

    def __rpow__(self, base: Any) -> Node:
        raise GraphDefinitionError(
            f"{base!r} ** {self.name}: pow takes a constant exponent; "
            "write exp(y * log(b)) for a node exponent"
        )
