"""Dask runs: one task graph for the forward and backward passes, computed when asked.

Given dask arrays, ``forward`` and ``backward`` only build the task graph. What a
numpy run checks as it goes is recorded here instead: ``check_finite`` adds one
reduction per checked value (``all(isfinite(value))``), computed in the same pass
as the results; the first node whose reduction fails is then named, as a numpy
run names it, with the index of the first bad element (found by a second pass,
only then).

>>> import dask.array as da, numpy as np, bngraph as bg
>>> g = bg.Graph("g"); x = g.input("x"); _ = g.output(bg.log(x, name="y"))
>>> run = g.forward(x=da.from_array(np.array([1.0, -1.0]), chunks=1), check_finite=True)
>>> run.outputs["y"].chunks                     # nothing computed yet
((1, 1),)
>>> with np.errstate(invalid="ignore"):  # numpy's own warning, in this thread
...     run.compute(scheduler="synchronous")
Traceback (most recent call last):
...
bngraph.errors.NonFiniteError: node 'y' (op log) produced a non-finite forward value: nan at ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from .backend import Backend

if TYPE_CHECKING:
    from ..schedule import Plan

__all__ = ["DaskBackend", "Check"]


class Check(NamedTuple):
    """One value that ``check_finite`` asked about, and its lazy all-finite reduction."""

    plan: Plan
    node: int
    what: str
    value: Any
    finite: Any


class DaskBackend(Backend):
    """The backend of runs on dask arrays: lazy, checks recorded as reductions."""

    lazy = True

    def __init__(self, xp: Any, name: str, device: Any, float_dtype: Any) -> None:
        super().__init__(xp, name, device, float_dtype)
        self.pending: list[Check] = []

    def fresh(self) -> DaskBackend:
        """The same backend with no recorded checks (to replay a run's passes)."""
        return DaskBackend(self.xp, self.name, self.device, self.float_dtype)

    def check(self, plan: Plan, node: int, value: Any, what: str) -> None:
        if type(value) is float:
            super().check(plan, node, value, what)
            return
        xp = self.xp
        self.pending.append(Check(plan, node, what, value, xp.all(xp.isfinite(value))))

    def forget_gradients(self) -> None:
        """Drop the checks of an earlier backward pass (a new one records its own)."""
        self.pending = [c for c in self.pending if c.what == FORWARD]

    def flags(self) -> list[Any]:
        """The lazy reductions of every recorded check, in the order the passes ran."""
        return [c.finite for c in self.pending]

    def raise_failed(self, finite: Sequence[Any]) -> None:
        """Raise the ``NonFiniteError`` of the first check whose computed flag is False."""
        for check, ok in zip(self.pending, finite, strict=True):
            if not bool(ok):
                raise self.nonfinite_error(check.plan, check.node, check.value, check.what)

    def raise_pending(self) -> None:
        """Compute every recorded check in one pass and raise for the first that fails."""
        import dask

        (finite,) = dask.compute(self.flags())
        self.raise_failed(finite)

    def hand_out(self, value: Any, kept: Sequence[Any]) -> Any:
        """Dask arrays are immutable task graphs: handed out as they are."""
        return value

    def separate(self, grads: dict[str, Any], caller: Sequence[Any]) -> None:
        """Dask arrays are never written in place by bngraph, but ``x[...] = v`` rebinds
        a dask array object: no gradient is handed out as an object the caller holds."""
        seen = {id(a) for a in caller}
        for name, g in grads.items():
            if id(g) in seen:
                g = grads[name] = g.copy()
            seen.add(id(g))


FORWARD = "forward value"
"""What ``check_finite`` calls a node's value (the backward checks name the operand)."""
