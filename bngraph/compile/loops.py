"""Loops over the elements of 2-d arrays, composed and compiled with numba.

``compiled(ops, ...)`` makes the loop of a row pass (``bngraph.compile.rows``) from a few
fixed functions: a leaf reads an operand (an element of an array of the full shape, of a
row broadcast down, or one number), an op applies ``+ - * /``, negation or a square root
to what its operands give, a statement stores a value into its array or adds it to a sum
over the rows. Each is a closure over numbers and other compiled functions, which numba
compiles as constants and inlines: no source code is generated. The loop visits the rows
in order and the elements of each row in order, so the sums add row after row as numpy
adds over the first axis, and every value is one IEEE operation on the same operands as
numpy's (numba's error model is numpy's: no exceptions; a Python number is first made
the pass's dtype, as numpy makes a weak scalar).

A loop is called as ``loop(F, n, d)``: ``F`` the tuple of the pass's operands and
destinations, then ``R``, room for the rows of those spread down the rows (see
``spread``), ``(n, d)`` its shape. It is compiled for the types of one such tuple and
takes no other (numba raises ``TypeError``); it returns 1, having written nothing, when
an array is not of the shape or layout it was compiled for, and 0 when done. Loops are
shared by passes of the same ops and types (of any shape).

``submit(job)`` runs a compilation on a worker thread (``wait()`` waits for them all).

>>> import numpy as np
>>> if available():
...     x, out = np.arange(6.0).reshape(2, 3), np.zeros((2, 3))
...     square = (MUL, ("val", 0), (("ext", 0), ("ext", 0)))
...     loop = compiled([(SWEEP, [square], [])], {0: 1}, (FULL, OUT), (x, out),
...                     np.dtype(np.float64))
...     assert loop((x, out, np.empty((0, 3))), 2, 3) == 0  # (R: no spread array)
...     assert out.tolist() == [[0.0, 1.0, 4.0], [9.0, 16.0, 25.0]]
"""

from __future__ import annotations

import importlib.util
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["ADD", "SUB", "MUL", "DIV", "NEG", "SQRT", "FULL", "OUT", "ROW", "OUT_ROW", "ONE",
           "SWEEP", "LINE", "spread",
           "COMPILE_IN_BACKGROUND", "available", "compiled", "submit", "wait"]

ADD, SUB, MUL, DIV, NEG, SQRT = range(6)
FULL, OUT, ROW, OUT_ROW, ONE = range(5)
"""What an operand of a loop is: an array of the full shape read, or written (and maybe
read); a row broadcast down ((d,) or (1, d)) read, or written (a row stored, or a sum
over the rows); one number (a Python number or an array of one element)."""

SWEEP, LINE = 2, 1
"""The phases of a loop: over the rows and the elements of each (its sums start at
zero), or over the elements of one row."""

COMPILE_IN_BACKGROUND = True
"""Compile on a thread of its own while the runs go on with numpy's calls; ``False``:
on the run that asks for it."""

_NUMBA: list[bool] = []
_LOCK = threading.Lock()
_QUEUE: queue.Queue[Callable[[], None]] = queue.Queue()
_PENDING = [0]  # jobs queued and not done
_DONE = threading.Condition(_LOCK)
_WORKER: list[threading.Thread] = []
_MADE: dict[Any, Any] = {}  # loops by ops and types
MAX_LOOPS = 256
"""Loops kept for passes to come (the oldest go first)."""


def available() -> bool:
    """Whether numba is installed (the row passes are compiled with it). It is imported
    only to compile a loop: a process that never compiles one never loads it (and its
    LLVM, about 100 MiB)."""
    if not _NUMBA:
        _NUMBA.append(importlib.util.find_spec("numba") is not None)
    return bool(_NUMBA[0])


def wait() -> None:
    """Wait until every pass being compiled is ready (for tests and benchmarks)."""
    with _DONE:
        _DONE.wait_for(lambda: _PENDING[0] == 0)


def submit(job: Callable[[], None]) -> None:
    """Queue a compilation for the worker thread (a daemon: the process does not wait
    for it at exit), started on first use."""
    with _LOCK:
        if not _WORKER:
            thread = threading.Thread(target=_work, name="bngraph-loops", daemon=True)
            _WORKER.append(thread)
            thread.start()
        _PENDING[0] += 1
    _QUEUE.put(job)


def _work() -> None:
    """The worker thread: compile what is queued, one at a time, for good."""
    while True:
        job = _QUEUE.get()
        try:
            job()  # (which catches what numba raises: the pass keeps numpy's calls)
        finally:
            with _DONE:
                _PENDING[0] -= 1
                _DONE.notify_all()


def compiled(phases: Sequence[Any], stores: dict[int, int], roles: Sequence[int],
             operands: Sequence[Any], dtype: np.dtype[Any]) -> Any:
    """The loop of a row pass, compiled for the types of ``operands`` (one run's ``F``).

    ``phases`` run one after the other, each ``(kind, ops, copies)``: a ``SWEEP`` or a
    ``LINE``; ``ops`` numbered values (see ``bngraph.compile.rows``) reading ``("val",
    v)``, a value of the phase, or ``("ext", k)``, ``F[k]``; ``copies`` the ``(from,
    to)`` places in ``F`` of rows copied once the phase is done. ``stores`` maps the
    values stored to their place in ``F``; ``roles`` says what each operand is
    (``FULL``, ``OUT``, ``ROW``, ``OUT_ROW`` or ``ONE``). Raises ``TypeError``
    for an operand the loop cannot read in numpy's order (an array of the full shape in
    neither C order nor spread down the rows) or write."""
    types = tuple(_type(role, value) for role, value in zip(roles, operands, strict=True))
    types += (_numba().types.Array(_numba().from_dtype(dtype), 2, "C"),)  # R (see spread)
    key = (_frozen(phases), tuple(sorted(stores.items())), tuple(roles), types, dtype.str)
    with _LOCK:
        found = _MADE.get(key)
    if found is not None:
        return found
    numba = _numba()
    loop = numba.njit(numba.int64(numba.types.Tuple(types), numba.int64, numba.int64),
                      nogil=True, error_model="numpy")(
        _compose(phases, stores, roles, types, spread(roles, operands), dtype))
    loop.disable_compile()  # other types raise TypeError: the pass makes numpy's calls
    with _LOCK:
        while len(_MADE) >= MAX_LOOPS:
            del _MADE[next(iter(_MADE))]
        _MADE[key] = loop
    return loop


def _frozen(x: Any) -> Any:
    return tuple(_frozen(y) for y in x) if isinstance(x, (list, tuple)) else x


def _type(role: int, value: Any) -> Any:
    """The numba type an operand is compiled for: arrays read only but those written, in
    C order where they are (numba then makes the loop over a row one of vector
    instructions); those of the full shape in C order, or spread down the rows."""
    numba = _numba()
    types = numba.types
    if type(value) is not np.ndarray:
        return numba.typeof(value)  # a Python number, made the pass's dtype where read
    element = numba.from_dtype(value.dtype)
    if role in (OUT, OUT_ROW):
        if not (value.flags.c_contiguous and value.flags.writeable):
            raise TypeError("an array written in neither C order nor writeable")
        return types.Array(element, value.ndim, "C")
    if role == FULL and not value.flags.c_contiguous:
        if value.strides[0] != 0:
            raise TypeError("an array of the full shape in neither C order nor spread down")
        return types.Array(element, 2, "A", readonly=True)
    return types.Array(element, value.ndim, "C" if value.flags.c_contiguous else "A",
                       readonly=True)


def _compose(phases: Sequence[Any], stores: dict[int, int], roles: Sequence[int],
             types: Sequence[Any], found: list[int], dtype: np.dtype[Any]
             ) -> Callable[..., int]:
    cast = np.float32 if dtype == np.float32 else np.float64
    types = types[:len(roles)]  # (and R after them)
    # an array of the full shape spread down the rows (``found``) is read from its row,
    # copied into R (the last operand) in C order, of which numba makes vector instructions
    rows = len(roles)
    leaf = [_spread_row(rows, found.index(k)) if k in found else _leaf(role, t, k, cast)
            for k, (role, t) in enumerate(zip(roles, types, strict=True))]
    copy: Any = _jit(_nothing)  # (before each sweep: a phase before may have written them)
    for r, k in enumerate(found):
        copy = _store_row(copy, rows, r, _row_of_2d(k))
    run: Any = _jit(_no_phase)
    fits: Any = _jit(_fits_anything)
    for k, (role, t) in enumerate(zip(roles, types, strict=True)):
        if hasattr(t, "ndim"):
            fits = _fits(fits, k, role, t)
    for kind, ops, copies in phases:
        zero, body = _phase(kind, ops, stores, leaf, types)
        if kind == SWEEP and found:
            run = _then(run, _line(copy))
        run = _then(run, _sweep(zero, body) if kind == SWEEP else _line(body))
        for source, target in copies:  # sums made in scratch, into their arrays
            run = _then(run, _line(_store(_jit(_nothing), target, types[target].ndim,
                                          leaf[source])))
    return _loop(fits, run)


def _phase(kind: int, ops: Sequence[Any], stores: dict[int, int], leaf: list[Any],
           types: Sequence[Any]) -> tuple[Any, Any]:
    """The statements of one phase, as ``(zero, body)``: setting its sums to zero, and
    what it does at one element (each value an expression of its operands, computed
    where a statement needs it; a stored one is read back)."""
    value: dict[int, Any] = {}
    body: Any = _jit(_nothing)
    zero: Any = _jit(_zero_nothing)
    for op, dst, operands in ops:
        args = [value[v] if what == "val" else leaf[v] for what, v in operands]
        if dst[0] == "acc":
            k = dst[1]
            body = _accumulate(body, k, types[k].ndim, args[0])
            zero = _zero(zero, k, types[k].ndim)
            continue
        made = _unary(op, *args) if op in (NEG, SQRT) else _binary(op, *args)
        if dst[1] in stores:  # stored: the values after it read it back
            k = stores[dst[1]]
            body = _store(body, k, 2 if kind == SWEEP else types[k].ndim, made)
            made = leaf[k]
        value[dst[1]] = made
    return zero, body


# ---------------------------------------------------------------------- leaves


def spread(roles: Sequence[int], operands: Sequence[Any]) -> list[int]:
    """The places of the arrays of the full shape spread down the rows: a loop reads
    their rows from ``R``, of shape ``(len(...), d)``, passed after the operands."""
    return [k for k, (role, a) in enumerate(zip(roles, operands, strict=True))
            if role == FULL and not a.flags.c_contiguous]


def _spread_row(rows: int, r: int) -> Any:
    def f(F: Any, i: int, j: int) -> Any:
        return F[rows][r, j]
    return _jit(f)


def _store_row(before: Any, rows: int, r: int, e: Any) -> Any:
    def f(F: Any, i: int, j: int) -> None:
        before(F, i, j)
        F[rows][r, j] = e(F, i, j)
    return _jit(f)


def _leaf(role: int, t: Any, k: int, cast: Any) -> Any:
    if role in (FULL, OUT):
        return _element(k)
    if not hasattr(t, "ndim"):  # a Python number
        def number(F: Any, i: int, j: int) -> Any:
            return cast(F[k])
        return _jit(number)
    if role == ONE:
        return (_first_0d, _first_1d, _first_2d)[t.ndim](k)
    return _row(k) if t.ndim == 1 else _row_of_2d(k)


def _element(k: int) -> Any:
    def f(F: Any, i: int, j: int) -> Any:
        return F[k][i, j]
    return _jit(f)


def _row(k: int) -> Any:
    def f(F: Any, i: int, j: int) -> Any:
        return F[k][j]
    return _jit(f)


def _row_of_2d(k: int) -> Any:
    def f(F: Any, i: int, j: int) -> Any:
        return F[k][0, j]
    return _jit(f)


def _first_0d(k: int) -> Any:
    def f(F: Any, i: int, j: int) -> Any:
        return F[k][()]
    return _jit(f)


def _first_1d(k: int) -> Any:
    def f(F: Any, i: int, j: int) -> Any:
        return F[k][0]
    return _jit(f)


def _first_2d(k: int) -> Any:
    def f(F: Any, i: int, j: int) -> Any:
        return F[k][0, 0]
    return _jit(f)


# ---------------------------------------------------------------------- checks


def _fits_anything(F: Any, n: int, d: int) -> bool:
    return True


def _fits(before: Any, k: int, role: int, t: Any) -> Any:
    """Whether ``F[k]`` is of the shape (and, read through its strides, the layout) the
    loop reads and writes it in."""
    if role == FULL and t.layout == "A":  # spread down the rows
        def f(F: Any, n: int, d: int) -> Any:
            a = F[k]
            return before(F, n, d) and a.shape[0] == n and a.shape[1] == d \
                and a.strides[0] == 0
    elif role in (FULL, OUT):
        def f(F: Any, n: int, d: int) -> Any:
            a = F[k]
            return before(F, n, d) and a.shape[0] == n and a.shape[1] == d
    elif role == ONE:
        def f(F: Any, n: int, d: int) -> Any:
            return before(F, n, d) and F[k].size == 1
    elif t.ndim == 1:  # a row, or a sum
        def f(F: Any, n: int, d: int) -> Any:
            return before(F, n, d) and F[k].shape[0] == d
    else:
        def f(F: Any, n: int, d: int) -> Any:
            a = F[k]
            return before(F, n, d) and a.shape[0] == 1 and a.shape[1] == d
    return _jit(f)


# ---------------------------------------------------------------------- values


def _unary(op: int, a: Any) -> Any:
    if op == NEG:
        def f(F: Any, i: int, j: int) -> Any:
            return -a(F, i, j)
    else:
        def f(F: Any, i: int, j: int) -> Any:
            return np.sqrt(a(F, i, j))
    return _jit(f)


def _binary(op: int, a: Any, b: Any) -> Any:
    if op == ADD:
        def f(F: Any, i: int, j: int) -> Any:
            return a(F, i, j) + b(F, i, j)
    elif op == SUB:
        def f(F: Any, i: int, j: int) -> Any:
            return a(F, i, j) - b(F, i, j)
    elif op == MUL:
        def f(F: Any, i: int, j: int) -> Any:
            return a(F, i, j) * b(F, i, j)
    else:
        def f(F: Any, i: int, j: int) -> Any:
            return a(F, i, j) / b(F, i, j)
    return _jit(f)


# ---------------------------------------------------------------------- statements


def _store(before: Any, k: int, how: int, e: Any) -> Any:
    """Store into ``F[k]``: an element of the full shape (``how`` 2, in a sweep), or of
    a row ((d,): 1, or (1, d): 2, in a line)."""
    if how == 1:
        def f(F: Any, i: int, j: int) -> None:
            before(F, i, j)
            F[k][j] = e(F, i, j)
    else:
        def f(F: Any, i: int, j: int) -> None:
            before(F, i, j)
            F[k][i, j] = e(F, i, j)
    return _jit(f)


def _accumulate(before: Any, k: int, ndim: int, e: Any) -> Any:
    if ndim == 1:
        def f(F: Any, i: int, j: int) -> None:
            before(F, i, j)
            F[k][j] += e(F, i, j)
    else:
        def f(F: Any, i: int, j: int) -> None:
            before(F, i, j)
            F[k][0, j] += e(F, i, j)
    return _jit(f)


def _zero(before: Any, k: int, ndim: int) -> Any:
    """Set a sum to +0.0 before the rows are added (numpy's reduction starts there)."""
    if ndim == 1:
        def f(F: Any, d: int) -> None:
            before(F, d)
            for j in range(d):
                F[k][j] = 0
    else:
        def f(F: Any, d: int) -> None:
            before(F, d)
            for j in range(d):
                F[k][0, j] = 0
    return _jit(f)


def _nothing(F: Any, i: int, j: int) -> None:
    pass


def _zero_nothing(F: Any, d: int) -> None:
    pass


def _no_phase(F: Any, n: int, d: int) -> None:
    pass


def _sweep(zero: Any, body: Any) -> Any:
    def f(F: Any, n: int, d: int) -> None:
        zero(F, d)
        for i in range(n):  # row after row: sums add as numpy adds over the first axis
            for j in range(d):
                body(F, i, j)
    return _jit(f)


def _line(body: Any) -> Any:
    def f(F: Any, n: int, d: int) -> None:
        for j in range(d):
            body(F, 0, j)
    return _jit(f)


def _then(first: Any, second: Any) -> Any:
    def f(F: Any, n: int, d: int) -> None:
        first(F, n, d)
        second(F, n, d)
    return _jit(f)


def _loop(fits: Any, run: Any) -> Callable[..., int]:
    def f(F: Any, n: int, d: int) -> int:
        if not fits(F, n, d):
            return 1
        run(F, n, d)
        return 0
    return f


def _jit(f: Callable[..., Any]) -> Any:
    return _numba().njit(f, inline="always", error_model="numpy")


def _numba() -> Any:
    import numba

    return numba
