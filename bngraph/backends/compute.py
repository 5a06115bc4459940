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

import contextlib
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from ..errors import InputError
from ..named import Gradients, Outputs

if TYPE_CHECKING:
    from ..run import Run

__all__ = ["Computed", "compute", "persist", "to_zarr", "statistics", "grad_key"]


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


def _flags(run: Run) -> list[Any]:
    return run.backend.flags() if run.backend is not None else []


def evaluate(collections: Sequence[Any], *, progress: bool = False, **options: Any) -> list[Any]:
    """Compute dask ``collections`` in one pass of the current scheduler, with dask's
    progress bar on stderr when ``progress`` (distributed's, given an active client)."""
    import dask

    if not progress:
        return list(dask.compute(*collections, **options))
    client = _client()
    if client is None:
        from dask.diagnostics import ProgressBar

        with ProgressBar(out=sys.stderr):
            return list(dask.compute(*collections, **options))
    from distributed import progress as bar

    futures = client.compute(list(collections), **options)
    with contextlib.redirect_stdout(sys.stderr):
        bar(futures)
        print(file=sys.stderr)
    return list(client.gather(futures))


def _client() -> Any:
    """The active ``distributed.Client``, if there is one."""
    try:
        from distributed import get_client
    except ImportError:
        return None
    try:
        return get_client()
    except ValueError:
        return None


def compute(*runs: Run, progress: bool = False, **options: Any) -> tuple[Computed, ...]:
    """The outputs and gradients of ``runs``, computed together in one pass (``options``
    go to ``dask.compute``, ``scheduler=`` for one); each run's ``check_finite``
    reductions are computed with them."""
    parts = [(dict(run.outputs), dict(run.grads), _flags(run)) for run in runs]
    if any(_lazy(run) for run in runs):
        parts = evaluate(parts, progress=progress, **options)
    results = []
    for run, (outputs, grads, finite) in zip(runs, parts, strict=True):
        if run.backend is not None and run.backend.lazy:
            run.backend.raise_failed(finite)
            outputs = {name: _plain(a) for name, a in outputs.items()}
            grads = {name: _plain(a) for name, a in grads.items()}
            run.warn_nonfinite("output", outputs)
            if grads:
                run.warn_nonfinite("gradient", grads)
        results.append(Computed(_named("output", outputs), _named("input", grads)))
    return tuple(results)


def _plain(value: Any) -> Any:
    return value if isinstance(value, float) else np.asarray(value)


def _named(kind: str, items: Mapping[str, Any]) -> dict[str, Any]:
    return Outputs(items) if kind == "output" else Gradients(items)


def persist(run: Run, **options: Any) -> Run:
    """Compute a lazy run's outputs and gradients and keep them where they are (on the
    cluster's workers with ``distributed``), in place of their task graphs."""
    if not _lazy(run):
        return run
    import dask

    kept_outputs, kept_grads = dask.persist(dict(run.outputs), dict(run.grads), **options)
    run.outputs.update(kept_outputs)
    run.grads.update(kept_grads)
    return run


def _arrays(run: Run) -> dict[str, Any]:
    """A run's outputs by name and its gradients as ``grad_<input>``."""
    clash = [n for n in run.grads if grad_key(n) in run.outputs]
    if clash:
        raise InputError(f"output {grad_key(clash[0])!r} clashes with the gradient of input "
                         f"{clash[0]!r}")
    return {**run.outputs, **{grad_key(n): g for n, g in run.grads.items()}}


def _summary(array: Any) -> dict[str, Any]:
    """Lazy min, mean and max (none for an empty array) and whether all are finite."""
    import dask.array as da

    facts: dict[str, Any] = {"finite": da.isfinite(array).all()}
    if array.size:
        facts.update(min=array.min(), mean=array.mean(), max=array.max())
    return facts


def _as_dask(value: Any) -> Any:
    import dask.array as da

    return da.asarray(np.asarray(value) if isinstance(value, float) else value)


def statistics(run: Run, *, progress: bool = False, **options: Any) -> dict[str, dict[str, Any]]:
    """Min, mean and max of every output and gradient (``grad_<input>``), and whether
    they are finite, computed in one pass without gathering the arrays; the run's
    ``check_finite`` reductions come with them."""
    summaries = {key: _summary(_as_dask(a)) for key, a in _arrays(run).items()}
    facts, flags = evaluate([summaries, _flags(run)], progress=progress, **options)
    if run.backend is not None:
        run.backend.raise_failed(flags)
    _warn(run, facts)
    return {key: {k: v.item() for k, v in f.items()} for key, f in facts.items()}


def _warn(run: Run, facts: Mapping[str, Mapping[str, Any]]) -> None:
    """The NaN warnings of the outputs and gradients, from their computed reductions."""
    run.warn_computed("output", {n: bool(facts[n]["finite"]) for n in run.outputs})
    if run.grads:
        run.warn_computed("gradient",
                          {n: bool(facts[grad_key(n)]["finite"]) for n in run.grads})


def to_zarr(run: Run, url: str | Path, *, overwrite: bool = False, progress: bool = False,
            **options: Any) -> Computed:
    """Write a run's outputs (by name) and gradients (``grad_<input>``) as the arrays of
    one Zarr group at ``url``, each chunk written where it is computed, in one pass with
    the ``check_finite`` reductions and each array's min, mean, max and finiteness (the
    NaN warnings; also kept as the arrays' attributes). Returns the Zarr arrays."""
    import dask.array as da
    import zarr

    arrays = _arrays(run)
    try:
        group = zarr.open_group(str(url), mode="w" if overwrite else "w-")
    except (FileExistsError, zarr.errors.ContainsGroupError, zarr.errors.ContainsArrayError):
        raise InputError(f"{url} exists: remove it, or pass overwrite=True") from None
    sources, targets, summaries = [], [], {}
    for key, array in arrays.items():
        lazy = _as_dask(array)
        regular = lazy.rechunk(tuple(max(c[0], 1) for c in lazy.chunks))  # Zarr's are even
        targets.append(group.create_array(key, shape=regular.shape, dtype=regular.dtype,
                                          chunks=tuple(max(c[0], 1) for c in regular.chunks)))
        sources.append(regular)
        summaries[key] = _summary(regular)
    stored = da.store(sources, targets, lock=False, compute=False)
    _, facts, flags = evaluate([stored, summaries, _flags(run)], progress=progress, **options)
    if run.backend is not None:
        run.backend.raise_failed(flags)
    for key, f in facts.items():
        group[key].attrs.update({k: _attribute(v) for k, v in f.items()})
    _warn(run, facts)
    return Computed(_named("output", {n: group[n] for n in run.outputs}),
                    _named("input", {n: group[grad_key(n)] for n in run.grads}))


def _attribute(value: Any) -> Any:
    """A computed statistic as JSON can hold it (NaN and infinities as text)."""
    number = value.item()
    if isinstance(number, float) and not np.isfinite(number):
        return str(number)
    return number
