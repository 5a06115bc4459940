"""The Python builder: ``Graph`` and its ``Node`` handles write the IR.

A ``Graph`` is built by appending nodes (``g.input``, operators, op functions,
``g.output``) and freezes the first time it is run or exported, or its plan or IR
is read: it then holds an immutable ``IR`` and its ``Plan``, which any number of
runs, in any number of threads, share.

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

import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .draft import Draft
from .errors import (
    FrozenGraphError,
    GraphDefinitionError,
    OutputError,
    UndefinedNameError,
    closest,
)
from .ir import (
    INPUT,
    IR,
    NodeSpec,
    check_arity,
    check_declared_shape,
    check_input_default,
    check_input_grad,
    literal_operand,
)
from .node import Node
from .ops import Op
from .run import Run, forward
from .schedule import Plan, make_plan

if TYPE_CHECKING:
    import networkx as nx

__all__ = ["Graph", "Node", "NodeSpec", "INPUT", "release_buffers"]


class Graph:
    """A computational graph: built by appending nodes, then immutable.

    ``Graph(name)`` starts an empty graph; ``input``, ``stage``, the operators of
    its nodes, the op functions (``bg.mean``, ``bg.sqrt``, ...) and ``output``
    build it; ``forward`` runs it. Reading it (``names``, ``spec``, ``order``...)
    does not freeze it; running, exporting, or reading ``plan`` or ``ir`` does.
    """

    def __init__(self, name: str) -> None:
        if not isinstance(name, str) or not name:
            raise GraphDefinitionError(f"a graph name must be a non-empty string, not {name!r}")
        self.name = name
        self.draft = Draft(name)
        self._stage: str | None = None
        self._lock = threading.Lock()
        self._frozen_by: str | None = None
        self._plan: Plan | None = None
        # the record and the plan of the graph so far, while building
        self._record: IR | None = None
        self._record_plan: Plan | None = None

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
            params["shape"] = check_declared_shape(name, shape)
        if default is not None:
            params["default"] = check_input_default(name, default)
        if not check_input_grad(name, grad):
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

    def apply(
        self,
        op: Op,
        operands: Sequence[Any],
        params: Mapping[str, Any] | None = None,
        name: str | None = None,
    ) -> Node:
        """Add a node applying ``op`` to ``operands`` (nodes of this graph or numbers);
        what calling an op does.

        >>> from bngraph.ops import get_op
        >>> g = Graph("g"); x = g.input("x")
        >>> g.apply(get_op("mean"), [x], {"axis": 0}, "mu")
        <Node 'mu' mean>
        """
        check_arity(op, len(operands), name)
        refs = tuple(
            self._resolve(o) if isinstance(o, Node) else literal_operand(o, name or op.name)
            for o in operands
        )
        return Node(self, self._add(op.name, refs, op.bind(params or {}), name))

    def output(self, *nodes: Node | str) -> None:
        """Mark nodes (or node names) as outputs, in order."""
        if not nodes:
            raise OutputError(f"graph {self.name!r}: output() needs at least one node")
        for node in nodes:
            index = self._resolve(node)
            if index in self.draft.outputs:
                raise OutputError(f"node {self.draft.names[index]!r} is already an output")
            self._check_open(f"declare output {self.draft.names[index]!r}")
            self.draft.outputs.append(index)
            self._changed()

    def _resolve(self, node: Node | str) -> int:
        if isinstance(node, Node):
            if node.graph is not self:
                raise GraphDefinitionError(
                    f"node {node.name!r} belongs to graph {node.graph.name!r}, not {self.name!r}"
                )
            return node.index
        if isinstance(node, str):
            if node not in self.draft.index:
                raise OutputError(
                    f"graph {self.name!r} has no node {node!r}{closest(node, self.draft.index)}"
                )
            return self.draft.index[node]
        raise GraphDefinitionError(f"expected a node or a node name, not {node!r}")

    def _check_open(self, action: str) -> None:
        if self._frozen_by is not None:
            raise FrozenGraphError(
                f"cannot {action}: graph {self.name!r} was frozen when {self._frozen_by}; "
                "build a new graph instead"
            )

    def _add(
        self,
        op: str,
        operands: tuple[int | float, ...],
        params: dict[str, Any],
        name: str | None,
    ) -> int:
        self._check_open(f"add node {name or op!r}")
        index = self.draft.add(op, operands, params, name, self._stage)
        self._changed()
        return index

    def rename(self, index: int, name: str) -> None:
        """Name node ``index`` (what ``node.named(name)`` does); an unnamed node that
        holds the name moves to a fresh one."""
        self._check_open(f"rename node {self.draft.names[index]!r}")
        self.draft.rename(index, name)
        self._changed()

    def _changed(self) -> None:
        self._record = self._record_plan = None

    # ------------------------------------------------------------------ freezing

    def freeze(self, reason: str = "freeze() was called") -> Graph:
        """Validate the graph, compute its plan once, and forbid further changes."""
        if self._plan is None:
            with self._lock:
                if self._plan is None:
                    if not self.draft.outputs:
                        raise OutputError(
                            f"graph {self.name!r} has no outputs; call g.output(node)"
                        )
                    self._plan = make_plan(self.draft.record())
                    self._frozen_by = reason
        return self

    @property
    def plan(self) -> Plan:
        """The schedule: topological order and liveness facts, computed once.
        Reading it freezes the graph."""
        plan = self._plan
        if plan is None:
            plan = self.freeze("its plan was read")._plan
            assert plan is not None
        return plan

    @property
    def ir(self) -> IR:
        """The frozen record of the graph; reading it freezes the graph."""
        return self.plan.ir

    def _reading(self) -> IR:
        """The record to read from: the frozen one, or one of the graph so far."""
        if self._plan is not None:
            return self._plan.ir
        if self._record is None:
            self._record = self.draft.record()
        return self._record

    def _reading_plan(self) -> Plan:
        """The plan to read from: the frozen one, or one of the graph so far."""
        if self._plan is not None:
            return self._plan
        if self._record_plan is None:
            self._record_plan = make_plan(self._reading())
        return self._record_plan

    # ------------------------------------------------------------------ reading

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        """Every node as a ``NodeSpec``, in definition order."""
        return self._reading().nodes

    def spec(self, node: int | str) -> NodeSpec:
        """One node as a ``NodeSpec``, by index or name."""
        return self._reading().spec(node)

    def __getitem__(self, name: str) -> Node:
        if name not in self.draft.index:
            raise UndefinedNameError(
                f"graph {self.name!r} has no node {name!r}{closest(name, self.draft.index)}"
            )
        return Node(self, self.draft.index[name])

    def __contains__(self, name: object) -> bool:
        return name in self.draft.index

    def __len__(self) -> int:
        return len(self.draft.names)

    @property
    def names(self) -> tuple[str, ...]:
        """Node names in definition order."""
        return tuple(self.draft.names)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input names in definition order."""
        return self._reading().inputs

    @property
    def constants(self) -> tuple[str, ...]:
        """The inputs declared with ``grad=False``, in definition order."""
        return self._reading().constants

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output names in the order they were declared."""
        return tuple(self.draft.names[i] for i in self.draft.outputs)

    @property
    def stages(self) -> tuple[str, ...]:
        """Stage labels in order of first use."""
        return tuple(dict.fromkeys(s for s in self.draft.stages if s is not None))

    @property
    def order(self) -> tuple[str, ...]:
        """Node names in the scheduler's topological order (reading it does not freeze)."""
        return self._reading_plan().names_in_order

    def consumers(self, name: str) -> tuple[str, ...]:
        """The nodes that use ``name`` as an operand (once per use), in schedule order."""
        return self._reading_plan().consumers(name)

    def signature(self) -> str:
        """The inputs as a user reads them: ``x[N, D], gamma[D], eps = 1e-05, labels[N] const``."""
        return self._reading().signature()

    def to_networkx(self) -> nx.MultiDiGraph[str]:
        """A copy of the IR: node attributes op/params/stage/index, edge key = operand position.

        >>> g = Graph("g"); x = g.input("x"); g.output((x * x).named("y"))
        >>> sorted(g.to_networkx().edges(keys=True))
        [('x', 'y', 0), ('x', 'y', 1)]
        """
        return self._exported().ir.to_networkx()

    # ------------------------------------------------------------------ the facade

    def _exported(self) -> Graph:
        return self.freeze("it was exported")

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
        self.freeze("it was run")
        return forward(self, given, keep_values=keep_values, check_finite=check_finite)

    def release_buffers(self) -> int:
        """Free the memory this graph's compiled plans keep between runs, and return
        its bytes: the buffers of runs already dropped, kept for the next run, and the
        large results of earlier runs kept to be written again once nobody holds them
        (see "Compiled plans" in the README). The plans stay compiled; runs still
        alive keep their buffers; the next run allocates what it needs afresh.

        >>> import numpy as np, bngraph as bg
        >>> g = bg.Graph.from_ir(bg.library.get("batchnorm").ir)
        >>> run = g.forward(x=np.ones((1024, 256)), gamma=np.ones(256), beta=np.zeros(256))
        >>> grads = run.backward(np.ones((1024, 256)))
        >>> del run, grads
        >>> g.release_buffers() >= 2 * 1024 * 256 * 8
        True
        >>> g.release_buffers()
        0
        """
        if self._plan is None:  # never run: nothing compiled
            return 0
        from .compile.cache import release_buffers

        return release_buffers(self._plan)

    def to_graphviz(self, run: Run | None = None, view: str | None = None, **options: Any) -> Any:
        """Draw the graph (with ``run``'s values and gradients) as a ``graphviz.Digraph``;
        see ``bngraph.viz.to_graphviz`` for the views and options."""
        from .viz import to_graphviz

        return to_graphviz(self._exported(), run, view, **options)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from .viz import mimebundle

        return mimebundle(self._exported())

    def to_dsl(self) -> str:
        """The canonical ``.bng`` text of the graph (see ``bngraph.dsl.printer``)."""
        from .dsl.printer import to_dsl

        return to_dsl(self._exported())

    def to_json(self) -> str:
        """The graph as JSON: networkx's node-link layout plus ``format_version``."""
        from .dsl.json_format import to_json

        return to_json(self._exported())

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the graph to ``path``: ``.bng`` text, or JSON for a ``.json`` suffix."""
        from .dsl.files import save

        save(self._exported(), path)

    def __repr__(self) -> str:
        state = "frozen" if self._frozen_by is not None else "open"
        return f"<Graph {self.name!r}: {len(self)} nodes, {state}>"

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_ir(cls, ir: IR) -> Graph:
        """The frozen graph of an IR (whose plan is computed here, reporting cycles)."""
        graph = cls(ir.name)
        graph.draft = Draft.of(ir)
        graph._plan = make_plan(ir)
        graph._frozen_by = "it was loaded"
        return graph

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
        return cls.from_ir(IR.from_specs(name, specs, outputs))


def release_buffers() -> int:
    """``Graph.release_buffers`` for every graph there is; the bytes freed. The library's
    graphs are among them: ``bg.library.get`` keeps its graphs, and so their compiled
    plans, for the whole session.

    >>> import bngraph as bg
    >>> bg.release_buffers() >= 0
    True
    """
    from .compile.cache import release_buffers as release

    return release()
