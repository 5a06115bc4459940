"""Computing lazy runs: their outputs and gradients in one pass, in memory or into Zarr.

``compute(run)`` (also ``run.compute()``) evaluates a run's outputs and the
gradients its last ``backward`` returned in one pass of the current dask scheduler
(a ``distributed.Client`` when one is active): the forward values the backward
pass reads are computed once and shared. The ``check_finite`` reductions are
computed in the same pass, and the NaN warnings of numpy runs are given then.
``to_zarr(run, url)`` writes them into a Zarr group instead, chunk by chunk, never
gathered on one machine. Runs on numpy (or any eager library) are already computed:
``compute`` hands their arrays back as they are.

>>> import dask.array as da, numpy as np, bngraph as bg
>>> g = bg.library.get("batchnorm")
>>> x = da.from_array(np.arange(20.0).reshape(5, 4), chunks=(2, 4))
>>> run = g.forward(x=x, gamma=2.0, beta=1.0, eps=0.1)
>>> grads = run.backward(run.outputs["out"])
>>> outputs, grads = run.compute()
>>> outputs["out"].round(3)[0], round(float(grads["gamma"]), 3)
(array([-1.824, -1.824, -1.824, -1.824]), 39.875)
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import InputError

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["Computed", "compute", "persist", "to_zarr", "grad_key"]


class Computed(NamedTuple):
    """A run's outputs and gradients (by name), computed: ``outputs, grads = run.compute()``."""

    outputs: dict[str, Any]
    grads: dict[str, Any]


def grad_key(name: str) -> str:
    """Where the gradient of input ``name`` goes in a file of outputs and gradients.

    >>> grad_key("x")
    'grad_x'
    """
    return f"grad_{name}"


def _lazy(run: Run) -> bool:
    backend = run.backend
    return backend is not None and backend.lazy


def compute(*runs: Run, **options: Any) -> tuple[Computed, ...]:
    """The outputs and gradients of ``runs``, computed together in one pass (``options``
    go to ``dask.compute``, ``scheduler=`` for one); each run's ``check_finite``
    reductions are computed with them."""
    parts = [(dict(run.outputs), dict(run.grads), _flags(run)) for run in runs]
    if any(_lazy(run) for run in runs):
        import dask

        (parts,) = dask.compute(parts, **options)
    results = []
    for run, (outputs, grads, finite) in zip(runs, parts, strict=True):
        if _lazy(run):
            run.backend.raise_failed(finite)
            outputs = {name: np.asarray(a) if not isinstance(a, float) else a
                       for name, a in outputs.items()}
            grads = {name: np.asarray(a) for name, a in grads.items()}
            run.warn_nonfinite("output", outputs)
            if grads:
                run.warn_nonfinite("gradient", grads)
        results.append(Computed(_named("output", outputs), _named("input", grads)))
    return tuple(results)


def _named(kind: str, items: Mapping[str, Any]) -> dict[str, Any]:
    from ..run import Named

    return Named(kind, items)


def _flags(run: Run) -> list[Any]:
    return run.backend.flags() if _lazy(run) else []


def persist(run: Run, **options: Any) -> Run:
    """Compute a lazy run's outputs and gradients and keep them where they are (on the
    cluster's workers with ``distributed``), in place of their task graphs."""
    if not _lazy(run):
        return run
    import dask

    outputs, grads = dict(run.outputs), dict(run.grads)
    kept_outputs, kept_grads = dask.persist(outputs, grads, **options)
    run.outputs.update(kept_outputs)
    run.grads.update(kept_grads)
    return run


def to_zarr(run: Run, url: str | Path, *, overwrite: bool = False,
            **options: Any) -> Computed:
    """Write a run's outputs (by name) and gradients (``grad_<input>``) as the arrays of
    one Zarr group at ``url``, each chunk written where it is computed, in one pass with
    the ``check_finite`` reductions and one all-finite reduction per array for the NaN
    warnings. Returns the Zarr arrays, read lazily from the store."""
    import dask
    import dask.array as da
    import zarr

    arrays = {**run.outputs, **{grad_key(n): g for n, g in run.grads.items()}}
    clash = [n for n in run.grads if grad_key(n) in run.outputs]
    if clash:
        raise InputError(f"output {grad_key(clash[0])!r} clashes with the gradient of input "
                         f"{clash[0]!r} in the Zarr group")
    try:
        group = zarr.open_group(str(url), mode="w" if overwrite else "w-")
    except (FileExistsError, zarr.errors.ContainsGroupError, zarr.errors.ContainsArrayError):
        raise InputError(f"{url} exists: remove it, or pass overwrite=True") from None
    sources, targets, finite = [], [], {}
    for key, array in arrays.items():
        lazy = da.asarray(array) if not isinstance(array, float) else da.asarray(np.asarray(array))
        regular = lazy.rechunk(tuple(max(c[0], 1) if c else 1 for c in lazy.chunks))
        target = group.create_array(key, shape=regular.shape, dtype=regular.dtype,
                                    chunks=tuple(max(c[0], 1) for c in regular.chunks))
        sources.append(regular)
        targets.append(target)
        finite[key] = da.isfinite(regular).all()
    stored = da.store(sources, targets, lock=False, compute=False)
    _, finite, flags = dask.compute(stored, finite, _flags(run), **options)
    if _lazy(run):
        run.backend.raise_failed(flags)
    outputs = {n: group[n] for n in run.outputs}
    grads = {n: group[grad_key(n)] for n in run.grads}
    run.warn_nonfinite("output", outputs, finite={n: finite[n] for n in run.outputs})
    if grads:
        run.warn_nonfinite("gradient", grads,
                           finite={n: finite[grad_key(n)] for n in run.grads})
    return Computed(_named("output", outputs), _named("input", grads))
