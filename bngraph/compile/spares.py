"""Spares: large arrays that earlier runs handed out, written again once nobody holds them.

What a compiled run hands out (outputs, gradients) is a fresh array, never one that a
later run changes. A large fresh array costs more than the arithmetic that fills it:
the kernel maps its memory anew and zeroes every page (about half the time of a
large elementwise call here). So a plan keeps the last ``KEEP`` arrays of 1 MiB or
more that its runs handed out in each such slot, and a run writes its result into one
of them instead of a new array, but only when nothing else refers to it any more: no
name, no view, no memoryview, no weak reference. An array the caller can still reach
is never written; the memory a loop lets go of is reused instead of mapped afresh.

>>> import numpy as np
>>> spares = Spares({0: 1 << 20})
>>> frame = [None]
>>> spares.fill(frame); frame[0] is None                  # nothing handed out yet
True
>>> frame[0] = np.ones(1 << 17); first = id(frame[0])
>>> spares.keep(frame)
>>> kept = frame[0]; frame[0] = None
>>> spares.fill(frame); frame[0] is None                  # still held (by ``kept``)
True
>>> del kept
>>> spares.fill(frame); id(frame[0]) == first             # let go of: written again
True
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["Spares", "KEEP", "MIN_BYTES"]

KEEP = 2
"""Arrays kept per slot: a loop that keeps the last run's results while the next one
runs (``out = f(out)``) lets go of the one before."""

MIN_BYTES = 1 << 20
"""Smaller arrays come from the allocator's free lists, already mapped: not worth keeping."""


def _references(arrays: list[Any], i: int) -> int:
    return sys.getrefcount(arrays[i])


# what ``_references`` counts for an array only its list holds, on this Python (on one
# that does not count references, nothing is ever written again)
_UNHELD = _references([np.empty(0)], 0) if sys.implementation.name == "cpython" else -1


def _unheld(arrays: list[Any], i: int) -> bool:
    """Whether nothing but ``arrays`` refers to ``arrays[i]`` (nor weakly)."""
    return _references(arrays, i) <= _UNHELD and not weakref.getweakrefcount(arrays[i])


class Spares:
    """The arrays a plan's runs handed out from the frame slots of ``sizes`` (slot:
    bytes), kept for later runs of the plan; shared by every thread."""

    __slots__ = ("_kept", "_layouts", "_lock")

    def __init__(self, sizes: Mapping[int, int]) -> None:
        self._kept: dict[int, list[Any]] = {
            slot: [] for slot, nbytes in sizes.items() if nbytes >= MIN_BYTES}
        self._layouts: dict[int, tuple[Any, ...]] = {}  # shape, strides, dtype: as numpy made it
        self._lock = threading.Lock()

    def __bool__(self) -> bool:
        return bool(self._kept)

    @property
    def nbytes(self) -> int:
        """Bytes of the arrays kept now."""
        return sum(int(a.nbytes) for arrays in self._kept.values() for a in arrays)

    def fill(self, frame: list[Any]) -> None:
        """Put in ``frame`` an array nobody holds for each slot that has one (as it was
        handed out: its holder may have reshaped it in place); the run's first call into
        that slot writes it."""
        with self._lock:
            for slot, arrays in self._kept.items():
                for i in range(len(arrays)):
                    if _unheld(arrays, i):
                        array, layout = arrays.pop(i), self._layouts[slot]
                        if (array.shape, array.strides, array.dtype) == layout:
                            array.flags.writeable = True  # its last holder may have locked it
                            frame[slot] = array
                        break

    def release(self) -> int:
        """Forget every array kept; the bytes of those nobody else held (freed now)."""
        with self._lock:
            freed = 0
            for arrays in self._kept.values():
                freed += sum(int(arrays[i].nbytes) for i in range(len(arrays))
                             if _unheld(arrays, i))
                arrays.clear()
            return freed

    def keep(self, frame: list[Any]) -> None:
        """Keep what the run handed out from the slots (the newest last)."""
        with self._lock:
            for slot, arrays in self._kept.items():
                array = frame[slot]
                if type(array) is np.ndarray and array.base is None:  # owns its memory
                    self._layouts.setdefault(slot, (array.shape, array.strides, array.dtype))
                    arrays.append(array)
                    if len(arrays) > KEEP:
                        del arrays[0]
