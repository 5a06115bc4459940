"""Loops over the elements of 2-d arrays, composed and compiled with numba.

``compose(ops, ...)`` makes the loop of a row pass (``bngraph.compile.rows``) from a few
fixed functions: a leaf reads an operand (a row of an array of the full shape, a row
broadcast down, or a value stored earlier in the loop), an op applies ``+ - * /``,
negation or a square root to what its operands give, a statement stores a value into its
buffer or adds it to a sum over the rows. Each is a closure over numbers and other compiled
functions, which numba compiles as constants and inlines: no source code is generated.
The loop visits the rows in order and the elements of each row in order, so the sums add
row after row as numpy adds over the first axis, and every value is one IEEE operation
on the same operands as numpy's (numba's error model is numpy's: no exceptions).

``submit(job)`` runs a compilation on a worker thread (``wait()`` waits for them all).

>>> import numpy as np
>>> if available():
...     loop = compose([(MUL, ("val", 0), (("ext", 7), ("ext", 7)))], {0: 0}, [0],
...                    {7: (LOAD, 0)})
...     x, out = np.arange(6.0).reshape(2, 3), np.zeros((2, 3))
...     loop((x,), np.zeros((0, 3)), (out,), np.zeros((0, 3)), 2, 3)
...     assert out.tolist() == [[0.0, 1.0, 4.0], [9.0, 16.0, 25.0]]
"""

from __future__ import annotations

import importlib.util
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = ["ADD", "SUB", "MUL", "DIV", "NEG", "SQRT", "LOAD", "VEC", "STORED",
           "COMPILE_IN_BACKGROUND", "available", "compose", "submit", "wait"]

ADD, SUB, MUL, DIV, NEG, SQRT = range(6)
LOAD, VEC, STORED = range(3)  # where a leaf reads: L[k][i, j], V[k, j] or S[k][i, j]

COMPILE_IN_BACKGROUND = True
"""Compile on a thread of its own while the runs go on with numpy's calls; ``False``:
on the run that asks for it."""

_NUMBA: list[bool] = []
_LOCK = threading.Lock()
_QUEUE: queue.Queue[Callable[[], None]] = queue.Queue()
_PENDING = [0]  # jobs queued and not done
_DONE = threading.Condition(_LOCK)
_WORKER: list[threading.Thread] = []


def available() -> bool:
    """Whether numba is installed (the row passes are compiled with it). It is imported
    only to compile a loop: a process that never runs a pass twice never loads it (and
    its LLVM, about 100 MiB)."""
    if not _NUMBA:
        _NUMBA.append(importlib.util.find_spec("numba") is not None)
    return bool(_NUMBA[0])


def _njit(f: Callable[..., Any], **options: Any) -> Any:
    import numba

    return numba.njit(f, error_model="numpy", **options)


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


def compose(ops: Sequence[Any], stores: dict[int, int], store_slots: Sequence[int],
            leaves: dict[int, tuple[int, int]]) -> Any:
    """The loop of a row pass: ``ops`` as numbered values (see ``bngraph.compile.rows``),
    the value stored into each slot of ``store_slots`` (``stores``: value to slot), and
    where each slot read from the frame is found (``leaves``: slot to place and index).
    It is called as ``loop(L, V, S, A, n, width)``: the arrays read row by row, the rows
    broadcast, the arrays stored into, the sums (zeros to add to), and the shape."""
    leaf = {slot: _LEAVES[place](k) for slot, (place, k) in leaves.items()}
    store_index = {slot: k for k, slot in enumerate(store_slots)}
    value: dict[int, Any] = {}
    body: Any = _jit(_nothing)
    sums = 0
    for op, dst, operands in ops:
        args = [value[v] if kind == "val" else leaf[v] for kind, v in operands]
        if dst[0] == "acc":
            body = _accumulate(body, sums, args[0])
            sums += 1
            continue
        made = _unary(op, *args) if op in (NEG, SQRT) else _binary(op, *args)
        if dst[1] in stores:  # stored: the values after it read it back
            k = store_index[stores[dst[1]]]
            body = _store(body, k, made)
            made = _stored(k)
        value[dst[1]] = made
    return _loop(body)


def _load(k: int) -> Any:
    def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
        return L[k][i, j]
    return _jit(f)


def _vec(k: int) -> Any:
    def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
        return V[k, j]
    return _jit(f)


def _stored(k: int) -> Any:
    def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
        return S[k][i, j]
    return _jit(f)


def _unary(op: int, a: Any) -> Any:
    if op == NEG:
        def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
            return -a(L, V, S, i, j)
    else:
        def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
            return np.sqrt(a(L, V, S, i, j))
    return _jit(f)


def _binary(op: int, a: Any, b: Any) -> Any:
    if op == ADD:
        def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
            return a(L, V, S, i, j) + b(L, V, S, i, j)
    elif op == SUB:
        def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
            return a(L, V, S, i, j) - b(L, V, S, i, j)
    elif op == MUL:
        def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
            return a(L, V, S, i, j) * b(L, V, S, i, j)
    else:
        def f(L: Any, V: Any, S: Any, i: int, j: int) -> Any:
            return a(L, V, S, i, j) / b(L, V, S, i, j)
    return _jit(f)


def _store(before: Any, k: int, e: Any) -> Any:
    def f(L: Any, V: Any, S: Any, A: Any, i: int, j: int) -> None:
        before(L, V, S, A, i, j)
        S[k][i, j] = e(L, V, S, i, j)
    return _jit(f)


def _accumulate(before: Any, k: int, e: Any) -> Any:
    def f(L: Any, V: Any, S: Any, A: Any, i: int, j: int) -> None:
        before(L, V, S, A, i, j)
        A[k, j] += e(L, V, S, i, j)
    return _jit(f)


def _nothing(L: Any, V: Any, S: Any, A: Any, i: int, j: int) -> None:
    pass


def _loop(body: Any) -> Any:
    def f(L: Any, V: Any, S: Any, A: Any, n: int, width: int) -> None:
        for i in range(n):  # row after row: sums add as numpy adds over the first axis
            for j in range(width):
                body(L, V, S, A, i, j)
    return _njit(f, nogil=True)


def _jit(f: Callable[..., Any]) -> Any:
    return _njit(f, inline="always")


_LEAVES = {LOAD: _load, VEC: _vec, STORED: _stored}
