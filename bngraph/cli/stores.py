"""Inputs too large for one machine: Zarr stores, and ``.npy`` files read chunk by chunk.

A Zarr group given to ``--inputs STORE.zarr`` holds one array per input. Its
metadata (shape, dtype, chunks) is read first and checked before any data: read
whole (a run without ``--scheduler``) an array must fit in the memory allowed; read
lazily (with ``--scheduler``) each of its chunks must, and it may not have more
chunks than a task graph can hold. With ``--scheduler``, ``.npy`` files are read
through a memory map, in chunks of rows (the first axis), each chunk in the task that
needs it: the file is never read whole on this machine.

>>> import numpy as np, tempfile, pathlib
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> np.save(folder / "x.npy", np.arange(12.0).reshape(6, 2))
>>> rows = NpyRows(folder / "x.npy")
>>> rows.shape, rows[4:6].tolist()
((6, 2), [[8.0, 9.0], [10.0, 11.0]])
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InputError
from .arrays import Declared, MemoryLimit
from .numbers import format_bytes

__all__ = ["is_zarr", "declared_zarr", "NpyRows", "lazy_npy", "row_chunks", "MAX_CHUNKS",
           "needs_dask"]

MAX_CHUNKS = 1_000_000
"""The most chunks an input may have: each is a task of the graph built on this machine."""

CHUNK_BYTES = 128 * 2**20
"""The size of the chunks of rows that ``.npy`` files and arrays in memory are cut into."""


def needs_dask(what: str) -> InputError:
    """The error for a feature that needs the ``dask`` extra."""
    return InputError(f"{what} needs dask, distributed and zarr: pip install 'bngraph[dask]'")


def is_zarr(path: Path) -> bool:
    """Whether ``path`` names a Zarr store (its suffix, or the metadata it holds)."""
    return path.suffix == ".zarr" or (path.is_dir() and any(
        (path / name).exists() for name in ("zarr.json", ".zgroup", ".zarray")))


def _open(path: Path) -> Any:
    try:
        import zarr
    except ImportError:
        raise needs_dask(f"reading {path}") from None
    if not path.exists():
        raise InputError(f"no such file: {path}")
    try:
        return zarr.open(str(path), mode="r")
    except Exception as error:  # noqa: BLE001 - any malformed store is bad input
        first = (str(error).strip().splitlines() or [type(error).__name__])[0][:200]
        raise InputError(f"cannot read {path}: not a Zarr store ({first})") from None


def declared_zarr(path: Path, memory: MemoryLimit, lazy: bool) -> dict[str, Declared]:
    """The arrays of a Zarr group (or one Zarr array, keyed by its stem), checked from
    their metadata: the whole of each against ``memory`` when read whole, each chunk
    when read lazily."""
    store = _open(path)
    arrays = ({path.stem: store} if hasattr(store, "shape")
              else {name: store[name] for name in sorted(store.array_keys())})
    declared = {name: _declared(name, array, f"{path}:{name}", memory, lazy)
                for name, array in arrays.items()}
    total = sum(d.nbytes for d in declared.values())
    if not lazy and total > memory.limit:
        raise InputError(f"the arrays of {path} need {format_bytes(total)} together, more "
                         f"than the memory allowed, {memory.describe()}")
    return declared


def _declared(name: str, array: Any, where: str, memory: MemoryLimit, lazy: bool) -> Declared:
    dtype = np.dtype(array.dtype)
    if dtype.kind not in "biufc":
        raise InputError(f"input {name!r} in {where} holds {dtype} values, not numbers")
    shape = tuple(int(d) for d in array.shape)
    nbytes = math.prod(shape) * dtype.itemsize
    chunks = tuple(int(c) for c in array.chunks)
    chunk_bytes = math.prod(chunks) * dtype.itemsize
    count = math.prod(math.ceil(s / c) for s, c in zip(shape, chunks, strict=True) if c)
    if lazy and chunk_bytes > memory.limit:
        raise InputError(f"input {name!r} in {where} has chunks of shape {chunks} "
                         f"({format_bytes(chunk_bytes)}), more than the memory allowed, "
                         f"{memory.describe()}")
    if lazy and count > MAX_CHUNKS:
        raise InputError(f"input {name!r} in {where} has {count} chunks of shape {chunks}, more "
                         f"than {MAX_CHUNKS}: store it with larger chunks")
    if not lazy and nbytes > memory.limit:
        raise InputError(f"input {name!r} in {where} has shape {shape} {dtype} "
                         f"({format_bytes(nbytes)}), more than the memory allowed, "
                         f"{memory.describe()}")
    return Declared(shape, dtype, nbytes, where, lambda: np.asarray(array[...]),
                    lambda: _from_zarr(array))


def _from_zarr(array: Any) -> Any:
    import dask.array as da

    return da.from_zarr(array)


class NpyRows:
    """An ``.npy`` file as an array whose entries are read through a memory map when
    indexed: what dask reads one chunk at a time (it pickles as its path)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        mapped = np.load(self.path, mmap_mode="r", allow_pickle=False)
        self.shape, self.dtype, self.ndim = mapped.shape, mapped.dtype, mapped.ndim

    def __getitem__(self, key: Any) -> np.ndarray:
        mapped = np.load(self.path, mmap_mode="r", allow_pickle=False)
        return np.array(mapped[key])


def row_chunks(shape: tuple[int, ...], itemsize: int, target: int = CHUNK_BYTES
               ) -> tuple[int, ...]:
    """Chunks of whole rows (the first axis) of about ``target`` bytes each.

    >>> row_chunks((1000, 1024), 8, target=2**20)
    (128, 1024)
    """
    if not shape:
        return ()
    row = math.prod(shape[1:]) * itemsize
    rows = max(1, min(shape[0], target // max(row, 1)))
    return (rows, *shape[1:])


def lazy_npy(path: Path) -> Any:
    """A ``.npy`` file as a dask array, chunked along its first axis, read chunk by chunk."""
    import dask.array as da

    rows = NpyRows(path)
    meta = np.empty((0,) * rows.ndim, rows.dtype)
    return da.from_array(rows, chunks=row_chunks(rows.shape, rows.dtype.itemsize), meta=meta,
                         name=f"npy-{path.name}-{path.stat().st_mtime_ns}")
