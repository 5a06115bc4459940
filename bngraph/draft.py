"""A graph being built: its columns, growing one node at a time, and its naming rules.

Unnamed nodes get ``{op}_{k}`` names; a user's name always wins, and an unnamed
node that held it moves to a fresh name. ``record()`` gives the IR of the columns.

>>> draft = Draft("g")
>>> x = draft.add("input", (), {}, "x", None)
>>> y = draft.add("neg", (x,), {}, None, None)
>>> draft.names[y], draft.record().names
('neg_1', ('x', 'neg_1'))
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from .errors import DuplicateNameError
from .ir import IR, check_name

__all__ = ["Draft"]


class Draft:
    """The columns of a graph being built (one entry per node, in definition order)."""

    def __init__(self, graph: str) -> None:
        self.graph = graph
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self.ops: list[str] = []
        self.operands: list[tuple[int | float, ...]] = []
        self.params: list[Mapping[str, Any]] = []
        self.stages: list[str | None] = []
        self.outputs: list[int] = []
        self.auto: list[bool] = []
        self._counts: dict[str, int] = {}

    def add(
        self,
        op: str,
        operands: tuple[int | float, ...],
        params: Mapping[str, Any],
        name: str | None,
        stage: str | None,
    ) -> int:
        """Append a node and return its index; ``name=None`` gives it an automatic name."""
        index = len(self.names)
        auto = name is None
        if name is None:
            name = self.fresh_name(op)
        else:
            check_name(name)
            self._claim(name)
        self.names.append(name)
        self.index[name] = index
        self.ops.append(op)
        self.operands.append(operands)
        self.params.append(MappingProxyType(dict(params)))
        self.stages.append(stage)
        self.auto.append(auto)
        return index

    def rename(self, index: int, name: str, *, auto: bool = False) -> None:
        """Give node ``index`` the name ``name`` (a user's name unless ``auto``)."""
        if name == self.names[index]:
            self.auto[index] = auto
            return
        if not auto:
            check_name(name)
            self._claim(name)
        del self.index[self.names[index]]
        self.names[index] = name
        self.index[name] = index
        self.auto[index] = auto

    def fresh_name(self, op: str) -> str:
        """The next free automatic name for a node of ``op``: ``add_1``, ``add_2``..."""
        count = self._counts.get(op, 0)
        while True:
            count += 1
            name = f"{op}_{count}"
            if name not in self.index:
                self._counts[op] = count
                return name

    def _claim(self, name: str) -> None:
        """Make ``name`` free: an unnamed node holding it moves to a fresh name."""
        holder = self.index.get(name)
        if holder is None:
            return
        if not self.auto[holder]:
            raise DuplicateNameError(
                f"graph {self.graph!r} already has a node named {name!r} "
                f"(op {self.ops[holder]})"
            )
        self.rename(holder, self.fresh_name(self.ops[holder]), auto=True)

    def record(self) -> IR:
        """The IR of the graph so far."""
        return IR(
            self.graph, tuple(self.names), tuple(self.ops), tuple(self.operands),
            tuple(self.params), tuple(self.stages), tuple(self.outputs),
        )

    @classmethod
    def of(cls, ir: IR) -> Draft:
        """The columns of an IR (a loaded graph), every name the user's."""
        draft = cls(ir.name)
        draft.names, draft.index = list(ir.names), dict(ir.index)
        draft.ops, draft.operands = list(ir.ops), list(ir.operands)
        draft.params, draft.stages = list(ir.params), list(ir.node_stages)
        draft.outputs, draft.auto = list(ir.output_indices), [False] * len(ir)
        return draft
