"""The IR: the frozen record of a graph that every layer above the builder reads.

A graph is a table of nodes, one op application each, with ordered operand edges:
for node ``i``, ``ops[i]`` names its op, ``operands[i]`` holds node indices (ints)
and literal numbers (floats) in order, ``params[i]`` its parameters and
``node_stages[i]`` its stage. Inputs are nodes whose op is ``INPUT``. The builder
(``bngraph.graph``) and the loaders (text, JSON) write an ``IR``; the scheduler, the
runs, the printers and the drawings read it.

>>> ir = IR.from_specs("g", [NodeSpec("x", INPUT), NodeSpec("y", "mul", ("x", 2.0))], ["y"])
>>> ir.names, ir.operands, ir.outputs
(('x', 'y'), ((), (0, 2.0)), ('y',))
>>> ir.spec("y")
NodeSpec(name='y', op='mul', operands=('x', 2.0), params=mappingproxy({}), stage=None)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Protocol

import networkx as nx
import numpy as np

from .errors import (
    ArityError,
    DuplicateNameError,
    GraphDefinitionError,
    OutputError,
    ParamError,
    UndefinedNameError,
    closest,
    node_context,
)
from .ops import Op, get_op
from .ops.broadcasting import Dim

__all__ = [
    "INPUT", "IR", "NodeSpec", "HasIR", "check_name", "check_arity",
    "check_declared_shape", "check_input_default", "check_input_grad", "literal_operand",
]

INPUT = "input"
"""The op name of input nodes; inputs are nodes, but not registered ops."""

Operand = int | float
"""A node index (int) or a literal number (float)."""


@dataclass(frozen=True)
class NodeSpec:
    """One node of the IR as data: the form graphs are loaded from and exported to.

    ``operands`` holds operand node names (str) and literal numbers (float), in
    order. Inputs have op ``"input"`` and params ``shape``, ``default`` and, for a
    constant, ``grad`` (False).

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


@dataclass(frozen=True, eq=False)
class IR:
    """The frozen record of a graph: one column per property of its nodes.

    Build one with ``IR.from_specs`` (validating everything) or from a builder;
    read it by index (the columns) or by name (``spec``, ``lookup``).
    """

    name: str
    names: tuple[str, ...]
    ops: tuple[str, ...]
    operands: tuple[tuple[Operand, ...], ...]
    params: tuple[Mapping[str, Any], ...]
    node_stages: tuple[str | None, ...]
    output_indices: tuple[int, ...]
    index: Mapping[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index = {name: i for i, name in enumerate(self.names)}
        object.__setattr__(self, "index", MappingProxyType(index))

    @property
    def ir(self) -> IR:
        """The IR itself, so that an IR is accepted wherever a graph is read."""
        return self

    # ------------------------------------------------------------------ lookups

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, name: object) -> bool:
        return name in self.index

    def lookup(self, name: str) -> int:
        """The index of node ``name``; an unknown name suggests the closest one."""
        try:
            return self.index[name]
        except KeyError:
            raise UndefinedNameError(
                f"graph {self.name!r} has no node {name!r}{closest(name, self.index)}"
            ) from None

    def spec(self, node: int | str) -> NodeSpec:
        """One node as a ``NodeSpec``, by index or name."""
        index = node if isinstance(node, int) else self.lookup(node)
        names = self.names
        operands = tuple(names[o] if isinstance(o, int) else o for o in self.operands[index])
        return NodeSpec(
            names[index], self.ops[index], operands, self.params[index], self.node_stages[index]
        )

    @property
    def nodes(self) -> tuple[NodeSpec, ...]:
        """Every node as a ``NodeSpec``, in definition order."""
        return tuple(self.spec(i) for i in range(len(self.names)))

    @property
    def input_indices(self) -> tuple[int, ...]:
        """The indices of the input nodes, in definition order."""
        return tuple(i for i, op in enumerate(self.ops) if op == INPUT)

    @property
    def inputs(self) -> tuple[str, ...]:
        """Input names in definition order."""
        return tuple(self.names[i] for i in self.input_indices)

    @property
    def constants(self) -> tuple[str, ...]:
        """The inputs declared with ``grad=False`` (no gradient), in definition order."""
        return tuple(
            self.names[i] for i in self.input_indices if self.params[i].get("grad") is False
        )

    @property
    def outputs(self) -> tuple[str, ...]:
        """Output names in the order they were declared."""
        return tuple(self.names[i] for i in self.output_indices)

    @property
    def stages(self) -> tuple[str, ...]:
        """Stage labels in order of first use."""
        return tuple(dict.fromkeys(s for s in self.node_stages if s is not None))

    def op(self, index: int) -> Op | None:
        """The op record of node ``index`` (``None`` for an input)."""
        name = self.ops[index]
        return None if name == INPUT else get_op(name)

    def describe(self, index: int) -> str:
        """The node for an error message: ``node 'xmu' (op sub, stage '2 center')``."""
        return node_context(self.names[index], self.ops[index], self.node_stages[index])

    def signature(self) -> str:
        """The inputs as a user reads them: ``x[N, D], gamma[D], eps = 1e-05, labels[N] const``."""
        parts = []
        for index in self.input_indices:
            params = self.params[index]
            text = self.names[index]
            if "shape" in params:
                text += "[" + ", ".join(str(d) for d in params["shape"]) + "]"
            if "default" in params:
                text += f" = {params['default']:g}"
            if params.get("grad") is False:
                text += " const"
            parts.append(text)
        return ", ".join(parts)

    def to_networkx(self) -> nx.MultiDiGraph[str]:
        """A new networkx copy: node attributes op/params/stage/index, edge key =
        operand position, number operands as the node's ``literals`` by position."""
        graph: nx.MultiDiGraph[str] = nx.MultiDiGraph(name=self.name, outputs=self.outputs)
        for index, name in enumerate(self.names):
            graph.add_node(
                name, op=self.ops[index], params=dict(self.params[index]),
                stage=self.node_stages[index], index=index,
            )
        for index, operands in enumerate(self.operands):
            for position, operand in enumerate(operands):
                if isinstance(operand, int):
                    graph.add_edge(self.names[operand], self.names[index], key=position)
                else:
                    graph.nodes[self.names[index]].setdefault("literals", {})[position] = operand
        return graph

    # ------------------------------------------------------------------ loading

    @classmethod
    def from_specs(cls, name: str, specs: Sequence[NodeSpec], outputs: Sequence[str]) -> IR:
        """Validate node records and make the IR. Operands may name nodes defined
        later (the order is the scheduler's business), so cycles are possible here;
        the scheduler reports them.

        >>> IR.from_specs("g", [NodeSpec("y", "neg", ("z",))], ["y"])
        Traceback (most recent call last):
        ...
        bngraph.errors.UndefinedNameError: graph 'g': node 'y' uses 'z', which is not defined
        """
        if not isinstance(name, str) or not name:
            raise GraphDefinitionError(f"a graph name must be a non-empty string, not {name!r}")
        index: dict[str, int] = {}
        params: list[Mapping[str, Any]] = []
        for spec in specs:
            check_name(spec.name)
            if spec.name in index:
                raise DuplicateNameError(f"graph {name!r}: node {spec.name!r} is defined twice")
            index[spec.name] = len(index)
            params.append(MappingProxyType(_checked_params(spec)))
        operands = tuple(
            tuple(_operand_ref(o, spec.name, index, name) for o in spec.operands)
            for spec in specs
        )
        return cls(
            name, tuple(index), tuple(s.op for s in specs), operands, tuple(params),
            tuple(s.stage for s in specs), _output_refs(outputs, index, name),
        )


class HasIR(Protocol):
    """Anything that carries an IR: a graph, a plan, or the IR itself."""

    @property
    def ir(self) -> IR: ...


# ---------------------------------------------------------------------- validation


def _checked_params(spec: NodeSpec) -> dict[str, Any]:
    if spec.op == INPUT:
        unknown = set(spec.params) - {"shape", "default", "grad"}
        if unknown or spec.operands:
            raise ParamError(
                f"input {spec.name!r} takes no operands and only the parameters shape, "
                "default and grad"
            )
        params: dict[str, Any] = {}
        if spec.params.get("shape") is not None:
            params["shape"] = check_declared_shape(spec.name, spec.params["shape"])
        if spec.params.get("default") is not None:
            params["default"] = check_input_default(spec.name, spec.params["default"])
        if not check_input_grad(spec.name, spec.params.get("grad", True)):
            params["grad"] = False
        return params
    op = get_op(spec.op)
    check_arity(op, len(spec.operands), spec.name)
    try:
        return op.bind(spec.params)
    except ParamError as error:
        raise ParamError(f"node {spec.name!r}: {error}") from None


def _operand_ref(operand: str | float, user: str, index: Mapping[str, int], graph: str) -> Operand:
    if isinstance(operand, str):
        if operand not in index:
            raise UndefinedNameError(
                f"graph {graph!r}: node {user!r} uses {operand!r}, which is not "
                f"defined{closest(operand, index)}"
            )
        return index[operand]
    return literal_operand(operand, user)


def _output_refs(outputs: Iterable[str], index: Mapping[str, int], graph: str) -> tuple[int, ...]:
    refs: list[int] = []
    for out in outputs:
        if out not in index:
            raise OutputError(
                f"graph {graph!r}: output {out!r} is not a node{closest(out, index)}"
            )
        if index[out] in refs:
            raise OutputError(f"node {out!r} is already an output")
        refs.append(index[out])
    if not refs:
        raise OutputError(f"graph {graph!r} has no outputs; call g.output(node)")
    return tuple(refs)


def check_name(name: Any) -> None:
    """Refuse a node name that is not a non-empty string."""
    if not isinstance(name, str) or not name:
        raise GraphDefinitionError(f"a node name must be a non-empty string, not {name!r}")


def check_arity(op: Op, count: int, name: str | None) -> None:
    """Refuse ``count`` operands for ``op`` unless it takes that many."""
    if not op.takes(count):
        what = f"node {name!r}: " if name else ""
        takes = "one or more operands" if op.variadic else f"{op.arity} operand(s)"
        raise ArityError(f"{what}op {op.name} takes {takes}, got {count}")


def literal_operand(value: Any, user: str) -> float:
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


def check_declared_shape(name: str, shape: Any) -> tuple[Dim, ...]:
    """An input's declared shape: sizes and symbol names (``("N", 4)``)."""
    if isinstance(shape, (str, int)):
        shape = (shape,)
    if not isinstance(shape, Sequence):
        raise ParamError(
            f"input {name!r}: a shape is a sequence of sizes and symbols, not {shape!r}"
        )
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


def check_input_grad(name: str, grad: Any) -> bool:
    """An input's ``grad`` flag: True, or False for a constant."""
    if grad is not True and grad is not False:
        raise ParamError(f"input {name!r}: grad must be True or False, not {grad!r}")
    return grad


def check_input_default(name: str, default: Any) -> float:
    """An input's default: a real number, stored as float."""
    if isinstance(default, bool) or not isinstance(default, (int, float)):
        raise ParamError(f"input {name!r}: default must be a number, not {default!r}")
    return float(default)
