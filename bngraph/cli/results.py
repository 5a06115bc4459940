"""What ``bngraph run`` writes and reports: outputs and gradients, to ``.npz`` or Zarr.

``-o OUT.npz`` writes every output by name and the gradient of every input as
``grad_<input>`` into one archive; ``-o OUT.zarr`` writes the same arrays into a
Zarr group, chunk by chunk where they are computed (a run on a cluster never
gathers them on this machine). The report summarizes each array (shape, dtype,
min, mean, max): from the arrays in memory, or, for a run on dask arrays, from
reductions computed in the same pass as the results.

>>> str(npz_path("result")), str(npz_path("out.npz")), str(output_path("out.zarr"))
('result.npz', 'out.npz', 'out.zarr')
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from ..backends import compute, grad_key, statistics, to_zarr
from ..errors import InputError
from ..run import Run
from .stores import is_zarr, needs_dask

__all__ = ["npz_path", "output_path", "write_results", "summarize"]


def summarize(array: Any) -> dict[str, Any]:
    """Shape, dtype, min, mean and max of an array, as plain Python values (no min, mean
    or max for an empty array, or a complex one, which has no order)."""
    values = np.asarray(array)
    shown = values.size > 0 and values.dtype.kind in "biuf"
    return {
        "shape": list(values.shape),
        "dtype": str(values.dtype),
        "min": float(values.min()) if shown else None,
        "mean": float(values.mean()) if shown else None,
        "max": float(values.max()) if shown else None,
    }


def npz_path(text: str) -> Path:
    """Where ``run -o TEXT`` writes: TEXT, with ``.npz`` added when it has another suffix
    (numpy's own rule, made visible); a directory is refused."""
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise InputError(f"-o {text}: is a directory; name the file to write, "
                         f"e.g. -o {path / 'result.npz'}")
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
        if path.is_dir():
            raise InputError(f"-o {text}: {path} is a directory; name another file")
    return path


def output_path(text: str) -> Path:
    """``-o``: a Zarr store for a ``.zarr`` path (an existing one is replaced, anything
    else there is refused), else an ``.npz`` file (``npz_path``)."""
    path = Path(text.rstrip("/" + os.sep) or text)
    if path.suffix != ".zarr":
        return npz_path(text)
    if path.exists() and not is_zarr_store(path):
        raise InputError(f"-o {text}: {path} exists and is not a Zarr store; name another path")
    return path


def is_zarr_store(path: Path) -> bool:
    """Whether ``path`` holds a Zarr store's metadata (not just its name)."""
    return path.is_dir() and is_zarr(path) and any(
        (path / name).exists() for name in ("zarr.json", ".zgroup", ".zarray"))


def write_results(run: Run, output: Path | None, progress: bool) -> dict[str, dict[str, Any]]:
    """Write the run's outputs and gradients to ``output`` (if any) and summarize each, by
    its key in the file (an output's name, ``grad_<input>``)."""
    lazy = run.backend is not None and run.backend.lazy
    if output is not None and output.suffix == ".zarr":
        try:
            stored = to_zarr(run, output, overwrite=True, progress=progress)
        except ImportError:
            raise needs_dask(f"-o {output}") from None
        arrays = {**stored.outputs, **{grad_key(n): g for n, g in stored.grads.items()}}
        return {key: _from_facts(a.shape, a.dtype, dict(a.attrs)) for key, a in arrays.items()}
    if lazy and output is None:
        facts = statistics(run, progress=progress)
        return {key: _from_facts(_shape(a), _dtype(a), facts[key])
                for key, a in _keyed(run.outputs, run.grads).items()}
    outputs, grads = compute(run, progress=progress)[0] if lazy else (run.outputs, run.grads)
    arrays = {name: np.asarray(value) for name, value in _keyed(outputs, grads).items()}
    if output is not None:
        np.savez(output, **arrays)
    return {key: summarize(array) for key, array in arrays.items()}


def _keyed(outputs: dict[str, Any], grads: dict[str, Any]) -> dict[str, Any]:
    arrays = dict(outputs)
    for name, grad in grads.items():
        key = grad_key(name)
        if key in arrays:
            raise InputError(
                f"output {key!r} clashes with the gradient of input {name!r} in the output file")
        arrays[key] = grad
    return arrays


def _shape(array: Any) -> tuple[int, ...]:
    return () if isinstance(array, float) else tuple(array.shape)


def _dtype(array: Any) -> Any:
    return np.dtype(np.float64) if isinstance(array, float) else array.dtype


def _from_facts(shape: tuple[int, ...], dtype: Any, facts: dict[str, Any]) -> dict[str, Any]:
    """A summary from statistics computed where the array lives."""
    def number(key: str) -> float | None:
        value = facts.get(key)
        return None if value is None or np.dtype(dtype).kind == "c" else float(value)

    return {"shape": list(shape), "dtype": str(np.dtype(dtype)), "min": number("min"),
            "mean": number("mean"), "max": number("max")}
