"""The array namespace of an op's operands, and the few functions ops share on any namespace.

Ops are written once, against the Python Array API standard: ``xp = namespace(x, y)``
gives numpy itself for numpy arrays and Python numbers (so that numpy runs take
numpy's own fast functions, unchanged), and array-api-compat's namespace of the
arrays otherwise (``array_api_compat.torch``, ``array_api_compat.dask.array``,
``array_api_strict``...). Where numpy has a faster spelling than the standard's
(``np.add.reduce`` for ``sum``), the helpers here pick it for numpy arrays only.

>>> import numpy as np
>>> namespace(np.ones(2), 2.0) is np, library(np)
(True, 'numpy')
>>> total(np.ones((2, 3)), 0, False)
array([2., 2., 2.])
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import BngraphError, ShapeError

__all__ = [
    "namespace", "library", "total", "reshape", "where", "as_mask", "erf", "inverse",
    "as_array_like", "elementwise", "NamespaceError",
]

_NUMBERS = (float, int, bool, np.ndarray)
_BY_TYPE: dict[type, Any] = {}


class NamespaceError(BngraphError, TypeError):
    """Arrays of two libraries met, or an op met a library it does not run on."""


def namespace(*values: Any) -> Any:
    """The array namespace of ``values``: numpy for numpy arrays, numpy scalars and
    Python numbers; array-api-compat's namespace of the other arrays (numbers beside
    them take that namespace too).

    >>> import array_api_strict as xs
    >>> namespace(xs.ones(2), 1.0).__name__
    'array_api_strict'
    """
    found: Any = np
    for value in values:
        kind = type(value)
        if kind in _NUMBERS:
            continue
        xp = _BY_TYPE.get(kind)
        if xp is None:
            xp = _lookup(value)
        if xp is np:
            continue
        if found is not np and found is not xp:
            raise NamespaceError(
                f"arrays of two libraries meet: {library(found)} and {library(xp)}")
        found = xp
    return found


def _lookup(value: Any) -> Any:
    """The namespace of one value's type, remembered: numpy for numpy's own types and
    for anything that is not an array (a list, None)."""
    from array_api_compat import array_namespace, is_array_api_obj, is_numpy_array

    if isinstance(value, np.generic) or is_numpy_array(value) or not is_array_api_obj(value):
        xp: Any = np
    else:
        xp = array_namespace(value)
    _BY_TYPE[type(value)] = xp
    return xp


def library(xp: Any) -> str:
    """The name of an array namespace's library, as users know it.

    >>> import array_api_strict
    >>> library(array_api_strict)
    'array_api_strict'
    """
    if xp is np:
        return "numpy"
    name: str = xp.__name__
    for prefix in ("array_api_compat.", "jax."):
        if name.startswith(prefix):
            name = name.removeprefix(prefix)
    return name.split(".")[0] if name != "numpy" else "numpy"


def total(x: Any, axis: Any, keepdims: bool) -> Any:
    """The sum of x over ``axis`` (numpy's ``add.reduce`` for numpy arrays: its ``sum``
    without the overhead)."""
    if type(x) is np.ndarray:
        return np.add.reduce(x, axis=axis, keepdims=keepdims)  # type: ignore[call-overload]
    return namespace(x).sum(x, axis=axis, keepdims=keepdims)


def reshape(x: Any, shape: Sequence[int]) -> Any:
    """x with another shape of the same size. Dask reshapes only by merging or splitting
    dimensions along its chunks: where it cannot, the error says which chunking can."""
    if type(x) is np.ndarray:
        return x.reshape(shape)
    xp = namespace(x)
    try:
        return xp.reshape(x, tuple(shape))
    except NotImplementedError:
        if not hasattr(x, "chunks"):
            raise
        raise ShapeError(_rechunk_hint(xp, x, tuple(shape))) from None


def _rechunk_hint(xp: Any, x: Any, shape: tuple[int, ...]) -> str:
    """Which axes of x to put in one chunk each for dask to reshape it to ``shape``: the
    fewest trailing axes that work, found by asking dask (nothing is computed)."""
    ndim = x.ndim
    for first in range(ndim - 1, -1, -1):
        axes = dict.fromkeys(range(first, ndim), -1)
        try:
            xp.reshape(x.rechunk(axes), shape)
        except NotImplementedError:
            continue
        chunks = tuple(c if a < first else (x.shape[a],) for a, c in enumerate(x.chunks))
        return (
            f"dask cannot reshape an array of shape {tuple(x.shape)} with chunks {x.chunks} to "
            f"{shape}: it splits and merges axes only along chunk borders; rechunk the "
            f"input it comes from so that axes {', '.join(map(str, axes))} are one chunk each "
            f"(.rechunk({axes}), chunks {chunks})"
        )
    return f"dask cannot reshape an array of shape {tuple(x.shape)} to {shape}"


def where(cond: Any, a: Any, b: Any) -> Any:
    """a where ``cond`` is non-zero (any dtype: masks hold 0 and 1), b elsewhere."""
    if type(cond) is np.ndarray:
        return np.where(cond, a, b)
    xp = namespace(cond, a, b)
    if xp is np:
        return np.where(cond, a, b)
    if not hasattr(cond, "dtype"):
        cond = xp.asarray(bool(cond))
    elif not xp.isdtype(cond.dtype, "bool"):
        cond = cond != 0
    if not hasattr(a, "dtype") and not hasattr(b, "dtype"):
        a = as_array_like(a, cond)
    return xp.where(cond, a, b)


def as_array_like(number: Any, like: Any) -> Any:
    """A Python number as a 0-d array of the floating dtype of ``like`` (float64 when
    it has none), on its device: what a weak number becomes where an array is needed."""
    xp = namespace(like)
    if xp is np:
        return np.asarray(number, _float_of(getattr(like, "dtype", np.float64)))
    from array_api_compat import device

    dtype = like.dtype if xp.isdtype(like.dtype, "real floating") else xp.float64
    return xp.asarray(number, dtype=dtype, device=device(like))


def _float_of(dtype: Any) -> Any:
    dtype = np.dtype(dtype)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def as_mask(flags: Any, *operands: Any) -> Any:
    """Booleans as 0/1 in the floating dtype of ``operands`` (float64 for integers).

    >>> as_mask(np.array([True, False]), np.zeros(2, np.float32)).dtype
    dtype('float32')
    """
    xp = namespace(flags, *operands)
    if xp is np:
        arrays = [o for o in operands if isinstance(o, np.ndarray)]
        dtype = np.result_type(*arrays) if arrays else np.dtype(np.float64)
        return np.asarray(flags).astype(_float_of(dtype))
    dtypes = [o.dtype for o in operands if hasattr(o, "dtype")]
    dtype = xp.result_type(*dtypes)
    if not xp.isdtype(dtype, "real floating"):
        dtype = xp.float64
    return xp.astype(flags, dtype)


def inverse(axes: Sequence[int]) -> tuple[int, ...]:
    """The permutation that undoes ``axes``.

    >>> inverse((2, 0, 1))
    (1, 2, 0)
    """
    return tuple(sorted(range(len(axes)), key=axes.__getitem__))


_ERF_LIBRARIES = ("numpy", "dask", "torch", "cupy", "jax")


def erf(x: Any) -> Any:
    """The error function on numpy (scipy's), dask (blockwise, chunk by chunk), torch,
    CuPy and JAX; the standard has none, so other libraries are refused by name."""
    xp = namespace(x)
    name = library(xp)
    if name == "numpy":
        from scipy.special import erf as scipy_erf  # imported on first use: scipy is large

        return scipy_erf(x)
    if name == "dask":
        return x.map_blocks(_chunk_erf, dtype=x.dtype)
    if name == "torch":
        import torch

        return torch.special.erf(x)
    if name in ("cupy", "jax"):
        return _chunk_erf(x)
    raise NamespaceError(
        f"erf has no implementation for {name} arrays (the array API standard has no erf); "
        f"it runs on {', '.join(_ERF_LIBRARIES)}"
    )


def _chunk_erf(chunk: Any) -> Any:
    """erf of one in-memory array: numpy (scipy), CuPy (cupyx) or JAX."""
    module = type(chunk).__module__
    if module.startswith("cupy"):
        from cupyx.scipy.special import erf as cupy_erf

        return cupy_erf(chunk)
    if module.startswith("jax"):
        from jax.scipy.special import erf as jax_erf

        return jax_erf(chunk)
    from scipy.special import erf as scipy_erf

    return scipy_erf(chunk)


def elementwise(name: str, ufunc: Any, doc: str) -> Any:
    """The standard's one-operand function ``name`` (``sqrt``, ``exp``...): numpy's
    ``ufunc`` itself for numpy arrays and numbers, ``xp.name`` for other arrays. The
    ufunc stays reachable as ``.ufunc`` (for code that writes into buffers, ``out=``).

    >>> sqrt = elementwise("sqrt", np.sqrt, "The square root.")
    >>> sqrt(np.array([4.0])), sqrt.ufunc is np.sqrt
    (array([2.]), True)
    """
    def apply(x: Any) -> Any:
        if type(x) is np.ndarray or type(x) is float:
            return ufunc(x)
        return getattr(namespace(x), name)(x)

    apply.__name__ = apply.__qualname__ = name
    apply.__doc__ = doc
    apply.ufunc = ufunc  # type: ignore[attr-defined]
    return apply
