"""BatchNorm forward + backward, written by every contender the benchmarks time.

Each contender is made by a function of the inputs (x, gamma, beta, eps, dout),
returning a call that computes the output and the three gradients afresh:

- ``bngraph``: the library's nine-stage graph, ``forward`` then ``backward(dout)``;
- ``staged``: the nine stages and their backward written by hand in numpy;
- ``closed``: the closed-form backward (``bngraph.reference``);
- ``jax``: ``jax.jit`` of the same nine stages' forward and ``jax.vjp`` (if installed);
- ``torch``: PyTorch's fused batch-norm kernels, forward and backward, one thread
  (if installed).

``peers()`` says which optional contenders are missing, and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import bngraph as bg
from bngraph.compile.loops import wait
from bngraph.compile.row_ops import MIN_BYTES
from bngraph.compile.rows import COMPILE_AFTER, COMPILE_AFTER_SMALL
from bngraph.reference import batchnorm_backward, batchnorm_forward

Call = Callable[[], Any]
Maker = Callable[[np.ndarray, np.ndarray, np.ndarray, float, np.ndarray], Call]


def staged(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
           dout: np.ndarray) -> Any:
    """The classic staged forward and backward, by hand."""
    n = x.shape[0]
    mu = 1.0 / n * np.sum(x, axis=0)
    xmu = x - mu
    sq = xmu**2
    var = 1.0 / n * np.sum(sq, axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    xhat = xmu * ivar
    out = gamma * xhat + beta
    dbeta = np.sum(dout, axis=0)
    dgamma = np.sum(dout * xhat, axis=0)
    dxhat = dout * gamma
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    dsqrtvar = -1.0 / (sqrtvar**2) * divar
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    dsq = 1.0 / n * np.ones_like(x) * dvar
    dxmu2 = 2 * xmu * dsq
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dx1, axis=0)
    dx2 = 1.0 / n * np.ones_like(x) * dmu
    return out, dx1 + dx2, dgamma, dbeta


def make_staged(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                dout: np.ndarray) -> Call:
    return lambda: staged(x, gamma, beta, eps, dout)


def make_closed(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                dout: np.ndarray) -> Call:
    def call() -> Any:
        out, cache = batchnorm_forward(x, gamma, beta, eps)
        return out, batchnorm_backward(dout, cache)

    return call


GRAPH = bg.library.get("batchnorm")


def make_bngraph(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
                 dout: np.ndarray) -> Call:
    def call() -> Any:
        run = GRAPH.forward(x=x, gamma=gamma, beta=beta, eps=eps)
        return run.outputs["out"], run.backward(dout)

    # numba compiles the row passes' loops after a run of large ones, 100 of small ones
    for _ in range(1 + (COMPILE_AFTER if x.nbytes >= MIN_BYTES else COMPILE_AFTER_SMALL)):
        call()
    wait()  # (on a worker thread: the runs are timed once they are ready)
    return call


def make_jax(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
             dout: np.ndarray) -> Call:
    import jax
    import jax.numpy as jnp

    def layer(x: Any, gamma: Any, beta: Any) -> Any:
        mu = jnp.mean(x, axis=0)
        xmu = x - mu
        var = jnp.mean(xmu**2, axis=0)
        xhat = xmu / jnp.sqrt(var + eps)
        return gamma * xhat + beta

    def forward_backward(x: Any, gamma: Any, beta: Any, dout: Any) -> Any:
        out, vjp = jax.vjp(layer, x, gamma, beta)
        return (out, *vjp(dout))

    compiled = jax.jit(forward_backward)
    args = [jax.device_put(a) for a in (x, gamma, beta, dout)]
    return lambda: jax.block_until_ready(compiled(*args))


def make_torch(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float,
               dout: np.ndarray) -> Call:
    import torch

    torch.set_num_threads(1)
    tx, tg, tb, td = (torch.from_numpy(a) for a in (x, gamma, beta, dout))
    mask = [True, True, True]

    def call() -> Any:
        out, mean, invstd = torch.native_batch_norm(tx, tg, tb, None, None, True, 0.0, eps)
        grads = torch.ops.aten.native_batch_norm_backward(
            td, tx, tg, None, None, mean, invstd, True, eps, mask)
        return out, grads

    return call


CONTENDERS: dict[str, Maker] = {
    "bngraph": make_bngraph, "staged": make_staged, "closed": make_closed,
}


def peers() -> tuple[dict[str, Maker], list[str]]:
    """The optional contenders installed, and a note for each one that is not."""
    found: dict[str, Maker] = {}
    missing = []
    for name, module, maker in (("jax", "jax", make_jax), ("torch", "torch", make_torch)):
        try:
            __import__(module)
        except ImportError:
            missing.append(f"{name} is not installed: its column is left out "
                           f"(pip install {'jax jaxlib' if name == 'jax' else 'torch'})")
            continue
        found[name] = maker
    if "jax" in found:
        import jax

        jax.config.update("jax_enable_x64", True)  # float64 in jax as in the others
    return found, missing
