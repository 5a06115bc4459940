"""Reading ``.npy`` and ``.npz`` files without trusting them: sizes are checked first.

Before any array is allocated its header is read (the ``.npy`` header of a file, or
of each member inside a ``.npz`` archive) and the bytes it declares are compared
with the data the file holds (for a ``.npz`` member: the uncompressed size the
archive states, which Python's ``zipfile`` never reads past) and with the memory
allowed. A 778 KB archive that declares 800 MB is loaded within its stated size or
refused; a header that declares 10**12 elements is refused at once. Nothing is
unpickled.

>>> import io, numpy as np
>>> buffer = io.BytesIO()
>>> np.save(buffer, np.zeros((3, 2)))
>>> _ = buffer.seek(0)
>>> read_header(buffer, "x.npy")
((3, 2), dtype('float64'), 48)
"""

from __future__ import annotations

import math
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from ..errors import InputError
from .numbers import format_bytes

__all__ = [
    "read_header", "declared_arrays", "declared_npy", "load_arrays", "Declared", "MemoryLimit",
]


class MemoryLimit:
    """The bytes a command may use (``--max-memory``) and how to say where it comes from."""

    def __init__(self, limit: int, origin: str) -> None:
        self.limit = limit
        self.origin = origin

    def describe(self) -> str:
        return f"{format_bytes(self.limit)} ({self.origin})"


def read_header(stream: IO[bytes], where: str) -> tuple[tuple[int, ...], np.dtype, int]:
    """The shape, dtype and byte count an ``.npy`` stream declares; the stream is left at
    the start of the data. Object arrays (which would need pickle) are refused."""
    try:
        version = np.lib.format.read_magic(stream)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
        else:
            raise ValueError(f"format version {version[0]}.{version[1]} holds structured "
                             "arrays, which are not inputs")
    except (ValueError, OSError, EOFError, SyntaxError) as error:
        raise _not_npy(where, error) from None
    if dtype.hasobject:
        raise InputError(f"cannot read {where}: it holds Python objects, which are never unpickled")
    return tuple(shape), dtype, math.prod(shape) * dtype.itemsize


def _not_npy(where: str, error: BaseException) -> InputError:
    return InputError(f"cannot read {where}: not a valid .npy array ({_first_line(error)})")


def _not_npz(path: Path, error: BaseException) -> InputError:
    return InputError(f"cannot read {path}: not a valid .npz/.npy file ({_first_line(error)})")


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0][:200] if text else type(error).__name__


def _declared(shape: tuple[int, ...], dtype: np.dtype, nbytes: int) -> str:
    return f"shape {shape} {dtype} ({format_bytes(nbytes)})"


def _check(name: str, where: str, shape: tuple[int, ...], dtype: np.dtype, nbytes: int,
           holds: int, memory: MemoryLimit) -> None:
    """Refuse an array whose data is not in the file, or that does not fit in memory."""
    if nbytes > holds:
        raise InputError(
            f"cannot read {where}: its header declares {_declared(shape, dtype, nbytes)} but "
            f"it holds only {format_bytes(holds)} of data"
        )
    if nbytes > memory.limit:
        raise InputError(
            f"input {name!r} in {where} has {_declared(shape, dtype, nbytes)}, more than the "
            f"memory allowed, {memory.describe()}"
        )


@dataclass(frozen=True)
class Declared:
    """An array a file declares, checked but not read yet: ``load()`` reads it, ``lazy()``
    (where the file can be read in chunks) makes a dask array that reads it chunk by chunk."""

    shape: tuple[int, ...]
    dtype: np.dtype
    nbytes: int
    where: str
    load: Callable[[], np.ndarray]
    lazy: Callable[[], Any] | None = None


def declared_npy(path: Path, name: str, memory: MemoryLimit, lazy: bool = False) -> Declared:
    """One ``.npy`` file's array, its declared size checked against the file and ``memory``
    (read ``lazy``, in chunks of rows, only each chunk must fit)."""
    with _open(path) as stream:
        shape, dtype, nbytes = read_header(stream, str(path))
        _check(name, str(path), shape, dtype, nbytes, path.stat().st_size - stream.tell(),
               memory if not lazy else MemoryLimit(2**63, "chunks"))
    return Declared(shape, dtype, nbytes, str(path), lambda: _read_file(path),
                    lambda: _lazy_npy(path))


def _lazy_npy(path: Path) -> Any:
    from .stores import lazy_npy

    return lazy_npy(path)


def declared_arrays(path: Path, memory: MemoryLimit) -> dict[str, Declared]:
    """The arrays of a ``.npz`` archive (or of one ``.npy`` file, keyed by its stem), their
    declared sizes checked against the sizes the archive states and against ``memory``."""
    with _open(path) as stream:
        if stream.read(6) == b"\x93NUMPY":
            return {path.stem: declared_npy(path, path.stem, memory)}
    try:
        with zipfile.ZipFile(path) as archive:
            arrays = {
                member.filename.removesuffix(".npy"):
                    _declared_member(archive, member, path, memory)
                for member in archive.infolist() if not member.is_dir()
            }
    except InputError:
        raise
    except _ZIP_ERRORS as error:
        raise _not_npz(path, error) from None
    total = sum(array.nbytes for array in arrays.values())
    if total > memory.limit:
        raise InputError(
            f"the arrays of {path} need {format_bytes(total)} together, more than the "
            f"memory allowed, {memory.describe()}"
        )
    return arrays


def load_arrays(path: Path, memory: MemoryLimit) -> dict[str, np.ndarray]:
    """The arrays of a ``.npz`` archive (or of one ``.npy`` file), read after their sizes
    are checked."""
    return {name: array.load() for name, array in declared_arrays(path, memory).items()}


_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
               NotImplementedError, RuntimeError)


def _declared_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo, path: Path,
                     memory: MemoryLimit) -> Declared:
    """One member's array, checked against the uncompressed size the archive states for it
    (``zipfile`` never reads past it, so the data cannot outgrow the check)."""
    where = f"{path}:{member.filename}"
    with archive.open(member) as stream:
        shape, dtype, nbytes = read_header(stream, where)
        header = stream.tell()
    name = member.filename.removesuffix(".npy")
    _check(name, where, shape, dtype, nbytes, member.file_size - header, memory)
    return Declared(shape, dtype, nbytes, where, lambda: _read_member(path, member.filename))


def _read_file(path: Path) -> np.ndarray:
    with _open(path) as stream:
        return _read(stream, str(path))


def _read_member(path: Path, member: str) -> np.ndarray:
    try:
        with zipfile.ZipFile(path) as archive, archive.open(member) as stream:
            return _read(stream, f"{path}:{member}")
    except InputError:
        raise
    except _ZIP_ERRORS as error:
        raise _not_npz(path, error) from None


def _open(path: Path) -> IO[bytes]:
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    return path.open("rb")


def _read(stream: IO[bytes], where: str) -> np.ndarray:
    """The array of an ``.npy`` stream whose size was checked."""
    try:
        return np.lib.format.read_array(stream, allow_pickle=False)
    except (ValueError, OSError, EOFError) as error:
        raise _not_npy(where, error) from None
