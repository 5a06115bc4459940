"""How a run computes with the arrays of a library other than numpy.

A ``Backend`` is made once per run, when its inputs are bound: it holds the run's
array namespace (array-api-compat's, or the library's own where it follows the
standard), the library's name, the device every array lives on and the run's
floating dtype. The engine asks it for what numpy runs do with numpy itself:
zeros and ones, broadcasting a weak number, checking that values are finite,
keeping a gradient from sharing memory with the caller's arrays.

>>> import array_api_strict as xs
>>> backend = Backend(xs, "array_api_strict", xs.Device("CPU_DEVICE"), xs.float32)
>>> backend.zeros((2,)).dtype, backend.lazy
(array_api_strict.float32, False)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import NonFiniteError, OpError
from ..ops.arrays import NamespaceError, namespace

if TYPE_CHECKING:
    from ..schedule import Plan

__all__ = ["Backend", "itemsize"]


class Backend:
    """One run's array library: its namespace ``xp``, its name, its device and the
    run's floating dtype. ``lazy`` backends (dask) build a task graph and compute
    nothing until asked."""

    lazy = False

    def __init__(self, xp: Any, name: str, device: Any, float_dtype: Any) -> None:
        self.xp = xp
        self.name = name
        self.device = device
        self.float_dtype = float_dtype

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} on {self.device}>"

    # ------------------------------------------------------------------ arrays

    def zeros(self, shape: Sequence[int], dtype: Any = None) -> Any:
        """Zeros of ``shape`` on the run's device (the run's floating dtype by default)."""
        return self.xp.zeros(tuple(shape), dtype=dtype or self.float_dtype, device=self.device)

    def ones_like(self, value: Any) -> Any:
        """Ones shaped like ``value`` (1.0 for a weak number): the default seed."""
        return 1.0 if type(value) is float else self.xp.ones_like(value)

    def weak(self, number: float) -> Any:
        """A weak Python number as a 0-d array of the run's floating dtype."""
        return self.xp.asarray(number, dtype=self.float_dtype, device=self.device)

    def broadcast(self, value: Any, shape: Sequence[int]) -> Any:
        """``value`` (an array of the run's library or a weak number) stretched to ``shape``."""
        if type(value) is float:
            value = self.weak(value)
        return self.xp.broadcast_to(value, tuple(shape))

    def adopt(self, value: Any) -> Any:
        """A numpy value computed from weak numbers alone, as an array of the run's
        library in its floating dtype (what numpy runs do with ``astype``)."""
        return self.xp.asarray(np.asarray(value), dtype=self.float_dtype, device=self.device)

    def normalize(self, out: Any, args: tuple[Any, ...], context: str) -> Any:
        """An op's result on this run: weak numbers from weak numbers, arrays of the
        run's library otherwise; anything else names the node that returned it."""
        weak = all(type(a) is float for a in args)
        if isinstance(out, (float, int, np.generic)):
            if weak:
                return float(out)
            # a number from arrays: a 0-d array, as numpy runs make it
            return self.xp.asarray(np.asarray(out), device=self.device)
        if isinstance(out, np.ndarray) and weak:
            return self.adopt(out)
        try:
            xp = namespace(out)
        except NamespaceError as error:
            raise OpError(f"{context}: forward returned {error}") from None
        if xp is np or xp is not self.xp:
            got = type(out).__module__.split(".")[0] + "." + type(out).__name__
            raise OpError(
                f"{context}: forward returned a {got} on a run of {self.name} arrays; an op "
                f"receives {self.name} arrays and must return one (array_api_compat."
                "array_namespace(x) gives their namespace)"
            )
        if not xp.isdtype(out.dtype, ("real floating", "complex floating", "integral")):
            raise OpError(f"{context}: forward returned {out.dtype} values, not numbers")
        return out

    def take_seed(self, name: str, value: Any) -> Any:
        """A backward seed in the run's library (numpy arrays only beside dask arrays)."""
        from .binding import take_in

        if type(value) not in (int, float, bool):
            xp = namespace(value)
            if xp is not self.xp and not (xp is np and self.lazy):
                raise NamespaceError(
                    f"the seed for output {name!r} is a {type(value).__name__} but the run "
                    f"computes with {self.name} arrays: give it as one (or a Python number)"
                )
        return take_in(self.xp, f"seed {name}", value)

    # ------------------------------------------------------------------ checks

    def all_finite(self, value: Any) -> bool:
        """Whether ``value`` holds no NaN or infinity."""
        if type(value) is float:
            return math.isfinite(value)
        xp = self.xp
        return bool(xp.all(xp.isfinite(value)))

    def check(self, plan: Plan, node: int, value: Any, what: str) -> None:
        """``check_finite``: stop at the first node whose ``value`` is not finite."""
        if not self.all_finite(value):
            raise self.nonfinite_error(plan, node, value, what)

    def fresh(self) -> Backend:
        """The backend for a replay of the run's passes (a lazy one records anew)."""
        return self

    def flags(self) -> list[Any]:
        """The checks a lazy backend recorded (none: eager backends check at once)."""
        return []

    def raise_pending(self) -> None:
        """Raise for a recorded check that fails (eager backends have none)."""

    def raise_failed(self, finite: Sequence[Any]) -> None:
        """Raise for the first computed flag that is False (eager backends have none)."""

    def forget_gradients(self) -> None:
        """Drop the checks of an earlier backward pass (eager backends keep none)."""

    def nonfinite_error(self, plan: Plan, node: int, value: Any, what: str) -> NonFiniteError:
        """The error naming node ``node``, with the first non-finite element and its index."""
        if type(value) is float:
            return NonFiniteError(
                f"{plan.ir.describe(node)} produced a non-finite {what}: {value} at index ()")
        where, element = self.first_nonfinite(value)
        return NonFiniteError(
            f"{plan.ir.describe(node)} produced a non-finite {what}: {element} at index {where}")

    def first_nonfinite(self, value: Any) -> tuple[tuple[int, ...], float]:
        """The index of the first NaN or infinity of ``value`` (in C order), and the value
        there, found on the array's own device."""
        xp = self.xp
        shape = tuple(value.shape)
        flat = xp.reshape(xp.astype(~xp.isfinite(value), xp.int8), (-1,))
        position = int(xp.argmax(flat))
        where = tuple(int(i) for i in np.unravel_index(position, shape)) if shape else ()
        return where, float(value[where])

    # ------------------------------------------------------------------ aliasing

    def hand_out(self, value: Any, kept: Sequence[Any]) -> Any:
        """An output or value for the caller that writing into cannot change what the
        backward pass reads (numpy hands out read-only views; these libraries have no
        such flag): the array itself where it shares no memory with the values ``kept``
        for the backward pass, else a copy (always, where the library cannot say)."""
        if type(value) is float:
            return value
        mine = _memory(value)
        if mine is None or any(_memory(k) == mine for k in kept if type(k) is not float):
            return self.xp.asarray(value, copy=True)
        return value

    def separate(self, grads: dict[str, Any], caller: Sequence[Any]) -> None:
        """Copy any gradient that may share memory with the caller's arrays or with
        another gradient, so that every array handed out is the caller's own. Where the
        library cannot say what an array shares, every gradient is copied."""
        owners = [_memory(a) for a in caller if not isinstance(a, (int, float))]
        for name, g in grads.items():
            mine = _memory(g)
            if mine is None or mine in owners:
                g = grads[name] = self.xp.asarray(g, copy=True)
                mine = _memory(g)
            owners.append(mine)


def _memory(array: Any) -> Any:
    """What identifies the memory an array's data lives in (views share it), or ``None``
    where the library does not say."""
    module = type(array).__module__
    if module.startswith("torch"):
        return ("torch", array.untyped_storage().data_ptr())
    if module.startswith("cupy"):
        return ("cupy", id(array.data.mem))
    return None


def itemsize(dtype: Any) -> int:
    """Bytes per element of a dtype of any library (8 where it does not say).

    >>> import array_api_strict as xs
    >>> itemsize(np.dtype(np.float32)), itemsize(xs.float32)
    (4, 4)
    """
    size = getattr(dtype, "itemsize", None)
    if isinstance(size, int):
        return size
    try:
        return int(np.dtype(str(dtype).rsplit(".", 1)[-1]).itemsize)
    except TypeError:
        return 8
