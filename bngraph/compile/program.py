"""A compiled plan's program: typed registers and the calls between them.

Lowering a graph for one input signature gives a flat list of ``Instr``: each
calls a function on registers and defines one new register (static single
assignment). Every register has a concrete shape and a kind: a numpy dtype, or
``WEAK`` (a Python float, numpy 2's weak scalar), or ``DYNAMIC`` (whatever the
interpreter's own rule returns, known only at run time). Buffers are assigned
later (``bngraph.compile.buffers``); here an instruction only says where an ``out``
buffer may go among its arguments and which operands' memory the result may take
over in place, or may share.

>>> p = Program()
>>> a = p.register((3,), np.dtype(np.float64))
>>> b = p.emit(np.negative, (a,), (3,), np.dtype(np.float64), node=1, out_at=1, inplace=(a,))
>>> p.instrs[0].args, p.kinds[b]
((0,), dtype('float64'))
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "WEAK", "DYNAMIC", "Kind", "Instr", "Program", "Deopt", "Surprise", "RuleSurprise", "Hint",
    "is_array", "float_promotion",
    "c_ordered", "result_kind",
]

WEAK = "weak"
"""The kind of a Python float: numpy 2's weak scalar, which takes the dtype it meets."""

DYNAMIC = "dynamic"
"""The kind of a value only known at run time (an interpreter rule's result as it comes)."""

Kind = Any  # np.dtype | WEAK | DYNAMIC


class Deopt(Exception):  # noqa: N818 - a signal, not an error: the run goes to the interpreter
    """Raised by a step whose value is not what the compiled plan assumed."""


Hint = tuple[tuple[int, ...], Kind, bool]
"""What a run saw a foreign op give: shape, dtype, whether in C order."""


class Surprise(Deopt):
    """Raised by a foreign op's step whose result is not what the plan assumed (another
    dtype or shape, or not in C order): the plan is made again with what was seen."""

    def __init__(self, node: int, seen: Hint) -> None:
        super().__init__(node, seen)
        self.node = node
        self.seen = seen


class RuleSurprise(Deopt):
    """Raised by a foreign rule's step that gave another float dtype than the plan assumed
    (``edge`` is ``(node, operand)``): the backward pass is made again knowing it."""

    def __init__(self, edge: tuple[int, int], seen: Any) -> None:
        super().__init__(edge, seen)
        self.edge = edge
        self.seen = seen


def c_ordered(array: np.ndarray) -> bool:
    """Whether numpy lays out a result computed from ``array`` as a new C-ordered array:
    its axes that are neither broadcast nor of size 1 go in C order.

    >>> c_ordered(np.ones((3, 4))), c_ordered(np.ones((3, 4)).T), c_ordered(np.ones((3, 4))[:, :1])
    (True, False, True)
    """
    if array.flags.c_contiguous:
        return True
    strides = [abs(s) for s, n in zip(array.strides, array.shape, strict=True) if n > 1 and s]
    return strides == sorted(strides, reverse=True)


def is_array(kind: Kind) -> bool:
    """Whether a register of this kind is an ndarray of a known dtype."""
    return isinstance(kind, np.dtype)


@dataclass(eq=False)
class Instr:
    """``result = fn(*args)``, or ``fn(*args)`` with an ``out`` buffer inserted at ``out_at``.

    ``inplace``: operands whose buffer the result may take over when they die here.
    ``aliases``: operands whose memory the result may share (views, foreign calls).
    ``edge``: the operand position of a backward step (``None`` in the forward pass).
    ``fresh``: always let numpy allocate the result (``out=None``), so that it gets the
    memory layout numpy gives it (which later reductions' order of summation follows).
    ``view``: the result is a view made by a pure function of its arguments (so a view
    of an arena buffer can be made once per arena).
    """

    fn: Callable[..., Any]
    args: tuple[int, ...]
    result: int
    node: int
    out_at: int | None = None
    inplace: tuple[int, ...] = ()
    aliases: tuple[int, ...] = ()
    edge: int | None = None
    fresh: bool = False
    view: bool = False


class Program:
    """Registers (shape and kind each, constants with their values) and instructions."""

    def __init__(self) -> None:
        self.shapes: list[tuple[int, ...]] = []
        self.kinds: list[Kind] = []
        self.ordered: list[bool] = []
        self.consts: dict[int, Any] = {}
        self.instrs: list[Instr] = []
        self._const_index: dict[Any, int] = {}

    def fork(self) -> Program:
        """A copy to extend (the backward pass extends the forward's program)."""
        other = Program()
        other.shapes, other.kinds = list(self.shapes), list(self.kinds)
        other.ordered = list(self.ordered)
        other.consts, other.instrs = dict(self.consts), list(self.instrs)
        other._const_index = dict(self._const_index)
        return other

    def register(self, shape: tuple[int, ...], kind: Kind, ordered: bool = True) -> int:
        """A new register (an input, or the result of an instruction). ``ordered``: its
        memory is laid out in C order (or has no order of its own: 0-d, 1-d, broadcast),
        so that numpy would give a result computed from it the layout of a new array."""
        self.shapes.append(tuple(shape))
        self.kinds.append(kind)
        self.ordered.append(ordered or len(shape) <= 1)
        return len(self.shapes) - 1

    def const(self, value: Any) -> int:
        """A register holding ``value`` for every run (deduplicated where hashable)."""
        key = _const_key(value)
        if key is not None and key in self._const_index:
            return self._const_index[key]
        if type(value) is float:
            reg = self.register((), WEAK)
        elif isinstance(value, np.ndarray):
            reg = self.register(value.shape, value.dtype)
        else:
            reg = self.register((), None)
        self.consts[reg] = value
        if key is not None:
            self._const_index[key] = reg
        return reg

    def typed_const(self, value: float, kind: Kind) -> int:
        """A literal number for an operation in dtype ``kind``: a 0-d array of that dtype
        when the conversion is exact (numpy converts a weak scalar the same way, and a
        0-d array is cheaper to pass), else the Python number itself."""
        if is_array(kind) and kind.kind == "f":
            with np.errstate(all="ignore"):
                array = np.array(value, kind)
            if np.isfinite(array) or not np.isfinite(value):
                array.flags.writeable = False
                return self.const(array)
        return self.const(float(value) if isinstance(value, float) else value)

    def emit(
        self,
        fn: Callable[..., Any],
        args: tuple[int, ...],
        shape: tuple[int, ...],
        kind: Kind,
        *,
        node: int,
        out_at: int | None = None,
        inplace: tuple[int, ...] = (),
        aliases: tuple[int, ...] = (),
        edge: int | None = None,
        ordered: bool | None = None,
        view: bool = False,
    ) -> int:
        """Append ``fn(*args)`` defining a new register of ``shape`` and ``kind``.

        ``ordered`` defaults to whether every operand is: a call on an operand in
        another layout lets numpy allocate its result (``Instr.fresh``)."""
        if ordered is None:
            ordered = all(self.ordered[a] for a in args if is_array(self.kinds[a]))
        result = self.register(shape, kind, ordered)
        fresh = out_at is not None and not self.ordered[result]
        inplace = () if fresh else tuple(
            a for a in inplace if self.shapes[a] == tuple(shape) and self.kinds[a] == kind
            and a not in self.consts
        )
        self.instrs.append(
            Instr(fn, tuple(args), result, node, out_at, inplace, aliases, edge, fresh, view)
        )
        return result

    def is_const(self, reg: int) -> bool:
        return reg in self.consts

    def nbytes(self, reg: int) -> int:
        kind = self.kinds[reg]
        if not is_array(kind):
            return 0
        return int(np.prod(self.shapes[reg], dtype=np.int64)) * int(kind.itemsize)


def _const_key(value: Any) -> Any:
    """A key under which equal constants share a register: the bits for 0-d arrays and
    the repr beside the value otherwise, so that ``0.0`` and ``-0.0`` (equal, and equal
    hashes) stay two constants.

    >>> _const_key(0.0) == _const_key(-0.0), _const_key(1.5) == _const_key(1.5)
    (False, True)
    """
    if isinstance(value, np.ndarray):
        if value.ndim == 0:
            return ("array", value.dtype, value.tobytes())
        return None
    try:
        hash(value)
    except TypeError:
        return None
    return (type(value), value, repr(value))


def float_promotion(kinds: list[Kind]) -> np.dtype[Any]:
    """The dtype a foreign op or rule most likely gives on operands of these kinds: its
    float operands' promoted dtype (integer ones are indices, as in ``take_along_axis``:
    they count only when there is nothing else; weak ones as Python floats).

    >>> float_promotion([np.dtype(np.float32), np.dtype(np.int64)])
    dtype('float32')
    """
    floats: list[Any] = [k for k in kinds if is_array(k) and k.kind == "f"]
    return np.result_type(*(floats or [k if is_array(k) else 1.0 for k in kinds]))


_RESULT_KINDS: dict[tuple[Any, ...], Kind] = {}


def result_kind(ufunc: Callable[..., Any], kinds: tuple[Kind, ...]) -> Kind:
    """The dtype numpy gives ``ufunc`` on operands of these kinds (weak ones as Python
    floats), found by calling it on one-element arrays: exact by construction.

    >>> result_kind(np.add, (np.dtype(np.float32), WEAK))
    dtype('float32')
    """
    key = (ufunc, kinds)
    found = _RESULT_KINDS.get(key)
    if found is None:
        dummies = [np.ones(1, k) if is_array(k) else k for k in kinds]
        dummies = [1.0 if d == WEAK else d for d in dummies]
        with np.errstate(all="ignore"):
            found = _RESULT_KINDS[key] = ufunc(*dummies).dtype
    return found
