"""The graph IR and the Python builder that writes it.

A ``Graph`` is a list of nodes, each one op application producing one array,
with ordered operand edges. It is built by appending (``g.input``, operators,
op functions, ``g.output``) and becomes immutable the first time it is run or
exported: from then on it is a fixed definition that any number of runs, in any
number of threads, share.

>>> import numpy as np, bngraph as bg
>>> g = bg.Graph("square")
>>> x = g.input("x")
>>> y = (x * x).named("y")
>>> g.output(y)
>>> run = g.forward(x=np.array([1.0, 3.0]))
>>> run.outputs["y"], run.backward()["x"]
(array([1., 9.]), array([2., 6.]))
"""

from __future__ import annotations

import heapq
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Union

import networkx as nx
import numpy as np

from .errors import (
    ArityError,
    BngraphError,
    CycleError,
    DuplicateNameError,
    FrozenGraphError,
    GraphDefinitionError,
    OutputError,
    ParamError,
    UndefinedNameError,
    closest,
)
from .ops import Op, get_op
from .ops.broadcasting import Dim

from .run import Run

if TYPE_CHECKING:
    from .schedule import Plan

__all__ = ["Graph", "Node", "NodeSpec", "INPUT"]

INPUT = "input"
"""The op name of input nodes; inputs are nodes, but not registered ops."""

Operand = Union["Node", float, int]


@dataclass(frozen=True)
class NodeSpec:
    """One node of the IR as data: the form graphs are loaded from and exported to.

    ``operands`` holds operand node names (str) and literal numbers (float), in
    order. Inputs have op ``"input"`` and params ``shape`` and ``default``.

    >>> NodeSpec("xmu", "sub", ("x", "mu"), stage="2 center").operands
    ('x', 'mu')
    """

    name: str
    op: str
    operands: tuple[str | float, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    stage: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "operands", tuple(self.operands))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))


class Graph:
    """A computational graph: built by appending nodes, then immutable.

    ``Graph(name)`` starts an empty graph; ``input``, ``stage``, the operators of
    its nodes, the op functions (``bg.mean``, ``bg.sqrt``, ...) and ``output``
    build it; ``forward`` runs it.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise GraphDefinitionError(f"a graph name must be a non-empty string, not {name!r}")
        self.name = name
        self._names: list[str] = []
        self._index: dict[str, int] = {}
        self._ops: list[str] = []
        self._operands: list[tuple[int | float, ...]] = []
        self._params: list[dict[str, Any]] = []
        self._stages: list[str | None] = []
        self._auto: list[bool] = []
        self._outputs: list[int] = []
        self._stage: str | None = None
        self._auto_counts: dict[str, int] = {}
        self._frozen = False
        self._lock = threading.Lock()
        self._plan: Plan | None = None

    # ------------------------------------------------------------------ building

    def input(
        self,
        name: str,
        shape: Sequence[int | str] | None = None,
        default: float | None = None,
        grad: bool = True,
    ) -> Node:
        """Declare an input; ``shape`` may hold symbols (``("N", "D")``), ``default`` a number.

        ``grad=False`` declares a constant (labels, indices, a mask): it gets no
        gradient, nothing computed from it alone does, and integer values given for
        it stay integers.

        >>> g = Graph("g")
        >>> g.input("x", shape=("N", "D"))
        <Node 'x' input (N, D)>
        >>> dict(g.input("labels", shape=("N",), grad=False).params)
        {'shape': ('N',), 'grad': False}
        """
        params: dict[str, Any] = {}
        if shape is not None:
            params["shape"] = _check_declared_shape(name, shape)
        if default is not None:
            if isinstance(default, bool) or not isinstance(default, (int, float)):
                raise ParamError(f"input {name!r}: default must be a number, not {default!r}")
            params["default"] = float(default)
        if grad is not True:
            if grad is not False:
                raise ParamError(f"input {name!r}: grad must be True or False, not {grad!r}")
            params["grad"] = False
        return Node(self, self._add(INPUT, (), params, name))

    @contextmanager
    def stage(self, label: str) -> Iterator[None]:
        """Group the nodes made inside the ``with`` block under one stage label.

        >>> g = Graph("g")
        >>> x = g.input("x")
        >>> with g.stage("1 double"):
        ...     y = (x + x).named("y")
        >>> y.stage
        '1 double'
        """
        if not isinstance(label, str) or not label:
            raise GraphDefinitionError(f"a stage label must be a non-empty string, not {label!r}")
        if self._stage is not None:
            raise GraphDefinitionError(
                f"stage {label!r} opened inside stage {self._stage!r}: stages do not nest"
            )
        self._stage = label
        try:
            yield
        finally:
            self._stage = None

    def output(self, *nodes: Node | str) -> None:
        """Mark nodes (or node names) as outputs, in order."""
        if not nodes:
            raise OutputError(f"graph {self.name!r}: output() needs at least one node")
        for node in nodes:
            index = self._resolve(node)
            if index in self._outputs:
                raise OutputError(f"node {self._names[index]!r} is already an output")
            self._check_open(f"declare output {self._names[index]!r}")
            self._outputs.append(index)

    def apply(
        self,
        op: Op,
        operands: Sequence[Any],
        params: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> Node:
        """Add a node applying ``op`` to ``operands`` (nodes of this graph or numbers);
        what calling an op does.

        >>> g = Graph("g"); x = g.input("x")
        >>> g.apply(get_op("mean"), [x], {"axis": 0}, "mu")
        <Node 'mu' mean>
        """
        return apply_op(op, operands, params or {}, name)

    def _resolve(self, node: Node | str) -> int:
        if isinstance(node, Node):
            if node.graph is not self:
                raise GraphDefinitionError(
                    f"node {node.name!r} belongs to graph {node.graph.name!r}, not {self.name!r}"
                )
            return node.index
        if isinstance(node, str):
            if node not in self._index:
                raise OutputError(
                    f"graph {self.name!r} has no node {node!r}{closest(node, self._index)}"
                )
            return self._index[node]
        raise GraphDefinitionError(f"expected a node or a node name, not {node!r}")

    def _check_open(self, action: str) -> None:
        if self._frozen:
            raise FrozenGraphError(
                f"cannot {action}: graph {self.name!r} is frozen (it has been run or "
                "exported); build a new graph instead"
            )

    def _add(
        self,
        op: str,
        operands: tuple[int | float, ...],
        params: dict[str, Any],
        name: str | None,
    ) -> int:
        self._check_open(f"add node {name or op!r}")
        index = len(self._names)
        if name is None:
            name = self._fresh_name(op)
            auto = True
        else:
            _check_name(name)
            self._claim(name)
            auto = False
        self._names.append(name)
        self._index[name] = index
        self._ops.append(op)
        self._operands.append(operands)
        self._params.append(params)
        self._stages.append(self._stage)
        self._auto.append(auto)
        return index

    def _fresh_name(self, op: str) -> str:
        count = self._auto_counts.get(op, 0)
        while True:
            count += 1
            name = f"{op}_{count}"
            if name not in self._index:
                self._auto_counts[op] = count
                return name

    def _claim(self, name: str) -> None:
        """Make ``name`` free: an unnamed node holding it moves to a fresh name."""
        holder = self._index.get(name)
        if holder is None:
            return
        if not self._auto[holder]:
            raise DuplicateNameError(
                f"graph {self.name!r} already has a node named {name!r} "
                f"(op {self._ops[holder]})"
            )
        self._rename(holder, self._fresh_name(self._ops[holder]), auto=True)

    def _rename(self, index: int, name: str, *, auto: bool = False) -> None:
        self._check_open(f"rename node {self._names[index]!r}")
        if name == self._names[index]:
            self._auto[index] = auto
            return
        if not auto:
            _check_name(name)
            self._claim(name)
        del self._index[self._names[index]]
        self._names[index] = name
        self._index[name] = index
        self._auto[index] = auto

    # ------------------------------------------------------------------ reading

    def freeze(self) -> Graph:
        """Validate the graph, compute its schedule once, and forbid further changes."""
        if self._plan is None:
            with self._lock:
                if self._plan is None:
                    from .schedule import make_plan

                    if not self._outputs:
                        raise OutputError(
                            f"graph {self.name!r} has no outputs; call g.output(node)"
                        )
                    self._frozen = True
                    self._plan = make_plan(self)
        return self

    @property
    def plan(self) -> Plan:
        """The schedule: topological order and liveness facts, computed once."""
        plan = self._plan
        if plan is None:
            plan = self.freeze()._plan
            assert plan is not None
        return plan

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        """Every node as a ``NodeSpec``, in definition order."""
        return tuple(self.spec(i) for i in range(len(self._names)))

    def spec(self, node: int | str) -> NodeSpec:
        """One node as a ``NodeSpec``, by index or name."""
        index = node if isinstance(node, int) else self._lookup(node)
        operands = tuple(
            self._names[o] if isinstance(o, int) else o for o in self._operands[index]
        )
        return NodeSpec(
            self._names[index], self._ops[index], operands,
            self._params[index], self._stages[index],
        )

    def _lookup(self, name: str) -> int:
        try:
            return self._index[name]
        except KeyError:
            raise UndefinedNameError(
                f"graph {self.name!r} has no node {name!r}{closest(name, self._index)}"
            ) from None

    def __getitem__(self, name: str) -> Node:
        return Node(self, self._lookup(name))

    def __contains__(self, name: object) -> bool:
        return name in self._index

    def __len__(self) -> int:
        return len(self._names)

    @property
    def names(self) -> tuple[str, ...]:
        """Node names in definition order."""
        return tuple(self._names)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input names in definition order."""
        return tuple(n for n, op in zip(self._names, self._ops) if op == INPUT)

    @property
    def constants(self) -> tuple[str, ...]:
        """The inputs declared with ``grad=False``, in definition order."""
        return tuple(n for n in self.inputs if self._params[self._index[n]].get("grad") is False)

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output names in the order they were declared."""
        return tuple(self._names[i] for i in self._outputs)

    @property
    def stages(self) -> tuple[str, ...]:
        """Stage labels in order of first use."""
        return tuple(dict.fromkeys(s for s in self._stages if s is not None))

    @property
    def order(self) -> tuple[str, ...]:
        """Node names in the scheduler's topological order."""
        return tuple(self._names[i] for i in self.plan.order)

    def consumers(self, name: str) -> tuple[str, ...]:
        """The nodes that use ``name`` as an operand (once per use), in schedule order."""
        index = self._lookup(name)
        return tuple(self._names[c] for c, _ in self.plan.uses[index])

    def to_networkx(self) -> nx.MultiDiGraph:
        """A copy of the IR: node attributes op/params/stage/index, edge key = operand position.

        >>> g = Graph("g"); x = g.input("x"); g.output((x * x).named("y"))
        >>> sorted(g.to_networkx().edges(keys=True))
        [('x', 'y', 0), ('x', 'y', 1)]
        """
        return self.plan.ir.copy()

    def signature(self) -> str:
        """The inputs as a user reads them: ``x[N, D], gamma[D], eps = 1e-05, labels[N] const``."""
        parts = []
        for name in self.inputs:
            params = self._params[self._index[name]]
            text = name
            if "shape" in params:
                text += "[" + ", ".join(str(d) for d in params["shape"]) + "]"
            if "default" in params:
                text += f" = {params['default']:g}"
            if params.get("grad") is False:
                text += " const"
            parts.append(text)
        return ", ".join(parts)

    def forward(
        self,
        inputs: Mapping[str, Any] | None = None,
        /,
        *,
        keep_values: bool = False,
        check_finite: bool = False,
        **kwargs: Any,
    ) -> Run:
        """Run the graph forward and return the ``Run``.

        Inputs are given as keywords (or as a mapping, for names that clash with
        the options). ``keep_values=True`` keeps every node's value (for drawing);
        otherwise values the backward pass does not need are released as soon as
        their last consumer has run. ``check_finite=True`` stops at the first node
        that produces a NaN or an infinity.
        """
        given = {**inputs, **kwargs} if inputs else kwargs
        return Run(self, given, keep_values=keep_values, check_finite=check_finite)

    def to_graphviz(self, run: Run | None = None, view: str | None = None, **options: Any) -> Any:
        """Draw the graph (with ``run``'s values and gradients) as a ``graphviz.Digraph``;
        see ``bngraph.viz.to_graphviz`` for the views and options."""
        from .viz import to_graphviz

        return to_graphviz(self, run, view, **options)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .viz import mimebundle

        return mimebundle(self)

    def to_dsl(self) -> str:
        """The canonical ``.bng`` text of the graph (see ``bngraph.dsl.printer``)."""
        from .dsl.printer import to_dsl

        return to_dsl(self)

    def to_json(self) -> str:
        """The graph as JSON: networkx's node-link layout plus ``format_version``."""
        from .dsl.json_format import to_json

        return to_json(self)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the graph to ``path``: ``.bng`` text, or JSON for a ``.json`` suffix."""
        from .dsl.files import save

        save(self, path)

    def __repr__(self) -> str:
        state = "frozen" if self._frozen else "open"
        return f"<Graph {self.name!r}: {len(self)} nodes, {state}>"

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_specs(
        cls, name: str, specs: Sequence[NodeSpec], outputs: Sequence[str]
    ) -> Graph:
        """Build a graph from node records, validating everything; the result is frozen.

        Operands may name nodes defined later (the order is the scheduler's
        business), so cycles are possible here and are reported as such.

        >>> g = Graph.from_specs("g", [NodeSpec("y", "neg", ("x",)), NodeSpec("x", "input")],
        ...                      ["y"])
        >>> g.order
        ('x', 'y')
        """
        graph = cls(name)
        for spec in specs:
            _check_name(spec.name)
            if spec.name in graph._index:
                raise DuplicateNameError(f"graph {name!r}: node {spec.name!r} is defined twice")
            graph._stage = spec.stage
            if spec.op == INPUT:
                graph.input(spec.name, **_input_params(spec))
                continue
            op = get_op(spec.op)
            _check_arity(op, len(spec.operands), spec.name)
            graph._add(spec.op, (), op.bind(spec.params), spec.name)
        graph._stage = None
        for index, spec in enumerate(specs):
            graph._operands[index] = tuple(
                graph._operand_ref(o, spec.name) for o in spec.operands
            )
        for out in outputs:
            if out not in graph._index:
                raise OutputError(
                    f"graph {name!r}: output {out!r} is not a node{closest(out, graph._index)}"
                )
            graph.output(out)
        return graph.freeze()

    def _operand_ref(self, operand: str | float, user: str) -> int | float:
        if isinstance(operand, str):
            if operand not in self._index:
                raise UndefinedNameError(
                    f"graph {self.name!r}: node {user!r} uses {operand!r}, which is not "
                    f"defined{closest(operand, self._index)}"
                )
            return self._index[operand]
        return _literal_operand(operand, user)


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
        return self.graph._names[self.index]

    @property
    def op(self) -> str:
        return self.graph._ops[self.index]

    @property
    def stage(self) -> str | None:
        return self.graph._stages[self.index]

    @property
    def params(self) -> Mapping[str, Any]:
        return MappingProxyType(self.graph._params[self.index])

    def named(self, name: str) -> Node:
        """Give this node a name (returns the node itself)."""
        self.graph._rename(self.index, name)
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

    def __add__(self, other: Operand) -> Node:
        return _apply("add", self, other)

    def __radd__(self, other: Operand) -> Node:
        return _apply("add", other, self)

    def __sub__(self, other: Operand) -> Node:
        return _apply("sub", self, other)

    def __rsub__(self, other: Operand) -> Node:
        return _apply("sub", other, self)

    def __mul__(self, other: Operand) -> Node:
        return _apply("mul", self, other)

    def __rmul__(self, other: Operand) -> Node:
        return _apply("mul", other, self)

    def __truediv__(self, other: Operand) -> Node:
        return _apply("div", self, other)

    def __rtruediv__(self, other: Operand) -> Node:
        return _apply("div", other, self)

    def __matmul__(self, other: Node) -> Node:
        return _apply("matmul", self, other)

    def __rmatmul__(self, other: Node) -> Node:
        return _apply("matmul", other, self)

    def __neg__(self) -> Node:
        return _apply("neg", self)

    def __pos__(self) -> Node:
        return self

    def __pow__(self, exponent: Any) -> Node:
        if isinstance(exponent, Node):
            raise GraphDefinitionError(
                f"{self.name} ** {exponent.name}: pow takes a constant exponent; "
                "write exp(y * log(x)) for a node exponent"
            )
        return apply_op(get_op("pow"), (self,), {"exponent": exponent}, None)

    def __getitem__(self, key: Any) -> Node:
        """A constant index of ints, slices and ``...``: ``x[1:3, :, ::2]``, ``x[..., 0]``."""
        from .ops.slicing import index_text

        return apply_op(get_op("getitem"), (self,), {"index": index_text(key)}, None)

    def __iter__(self) -> Any:
        # without this, Python would iterate a node by indexing it 0, 1, 2, ... for ever
        raise TypeError(f"node {self.name!r} cannot be iterated while the graph is being built")

    def __rpow__(self, base: Any) -> Node:
        raise GraphDefinitionError(
            f"{base!r} ** {self.name}: pow takes a constant exponent; "
            "write exp(y * log(b)) for a node exponent"
        )


def _apply(op_name: str, *operands: Operand) -> Node:
    return apply_op(get_op(op_name), operands, {}, None)


def apply_op(op: Op, operands: Sequence[Any], params: Mapping[str, Any], name: str | None) -> Node:
    """Add a node applying ``op`` to ``operands`` (nodes or numbers) in their graph."""
    _check_arity(op, len(operands), name)
    graph = next((o.graph for o in operands if isinstance(o, Node)), None)
    if graph is None:
        raise GraphDefinitionError(
            f"op {op.name} needs at least one node operand, got only numbers {tuple(operands)!r}"
        )
    refs = tuple(
        graph._resolve(o) if isinstance(o, Node) else _literal_operand(o, name or op.name)
        for o in operands
    )
    return Node(graph, graph._add(op.name, refs, op.bind(params), name))


def _check_arity(op: Op, count: int, name: str | None) -> None:
    if not op.takes(count):
        what = f"node {name!r}: " if name else ""
        takes = "one or more operands" if op.variadic else f"{op.arity} operand(s)"
        raise ArityError(f"{what}op {op.name} takes {takes}, got {count}")


def _literal_operand(value: Any, user: str) -> float:
    """A constant operand: a real number (numpy scalars included), stored as float."""
    if isinstance(value, (np.generic, np.ndarray)) and np.ndim(value) == 0:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "an array" if isinstance(value, (np.ndarray, list, tuple)) else repr(value)
        raise GraphDefinitionError(
            f"{user!r}: an operand must be a node or a number, not {kind}; "
            "declare arrays as inputs"
        )
    return float(value)


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not name:
        raise GraphDefinitionError(f"a node name must be a non-empty string, not {name!r}")


def _check_declared_shape(name: str, shape: Sequence[Any]) -> tuple[Dim, ...]:
    if isinstance(shape, (str, int)):
        shape = (shape,)
    dims: list[Dim] = []
    for dim in shape:
        if isinstance(dim, str) and dim.isidentifier():
            dims.append(dim)
        elif isinstance(dim, (int, np.integer)) and not isinstance(dim, bool) and dim >= 0:
            dims.append(int(dim))
        else:
            raise ParamError(
                f"input {name!r}: a shape holds sizes and symbol names, not {dim!r}"
            )
    return tuple(dims)


def _input_params(spec: NodeSpec) -> dict[str, Any]:
    unknown = set(spec.params) - {"shape", "default", "grad"}
    if unknown or spec.operands:
        raise ParamError(
            f"input {spec.name!r} takes no operands and only the parameters shape, default "
            "and grad"
        )
    return {"shape": spec.params.get("shape"), "default": spec.params.get("default"),
            "grad": spec.params.get("grad", True)}


def topological_order(graph: Graph) -> list[int]:
    """Kahn's algorithm, ties broken by definition order; raises ``CycleError``."""
    count = len(graph._names)
    indegree = [0] * count
    users: list[list[int]] = [[] for _ in range(count)]
    for index, operands in enumerate(graph._operands):
        for o in set(o for o in operands if isinstance(o, int)):
            indegree[index] += 1
            users[o].append(index)
    ready = [i for i in range(count) if indegree[i] == 0]
    heapq.heapify(ready)
    order: list[int] = []
    while ready:
        index = heapq.heappop(ready)
        order.append(index)
        for user in users[index]:
            indegree[user] -= 1
            if indegree[user] == 0:
                heapq.heappush(ready, user)
    if len(order) < count:
        raise CycleError(f"graph {graph.name!r} has a cycle: {_describe_cycle(graph, order)}")
    return order


def _describe_cycle(graph: Graph, done: list[int]) -> str:
    finished = set(done)
    rest = nx.DiGraph()
    for index, operands in enumerate(graph._operands):
        if index in finished:
            continue
        for o in operands:
            if isinstance(o, int) and o not in finished:
                rest.add_edge(graph._names[o], graph._names[index])
    edges = nx.find_cycle(rest)
    names = [u for u, _ in edges] + [edges[0][0]]
    return " -> ".join(names)
