"""Array backends: the same graphs on any array library of the Python Array API standard.

A run computes in the library of its inputs, decided once when they are bound:
numpy arrays and numbers run on numpy (the engine's own fast path); torch tensors
and CuPy arrays stay in their library and on their device; dask arrays build one
lazy task graph for the forward and backward passes (``compute``, ``persist`` and
``to_zarr`` evaluate it, on a ``distributed`` cluster when one is active); any
other library of the standard (``array_api_strict``) runs through
array-api-compat. Ops that the standard cannot spell (convolution, pooling, gathers
by index) run on numpy only and are named before anything runs.

>>> import array_api_strict as xs, bngraph as bg
>>> run = bg.library.get("batchnorm").forward(x=xs.ones((5, 4)), gamma=2.0, beta=1.0)
>>> type(run.outputs["out"]).__module__, run.backend.name
('array_api_strict._array_object', 'array_api_strict')
"""

from .backend import Backend, itemsize
from .compute import Computed, compute, evaluate, grad_key, persist, statistics, to_zarr
from .lazy import DaskBackend

__all__ = [
    "Backend", "DaskBackend", "Computed", "compute", "persist", "to_zarr", "statistics",
    "evaluate", "grad_key", "itemsize",
]
