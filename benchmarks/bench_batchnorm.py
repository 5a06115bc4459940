"""Forward + backward of BatchNorm: bngraph's nine-stage graph against plain numpy.

Three contenders, timed side by side in one process, in alternating order
(A B C C B A ...) after a warm-up, each run's results released before the next:

- staged: the nine stages and their backward written by hand in numpy;
- closed: the closed-form backward of docs/batchnorm.md;
- bngraph: ``library.get("batchnorm")``, ``forward`` then ``backward(dout)``.

Small sizes are timed in batches of 200 calls per sample, large ones one call
per sample.

Prints the median time of each and the ratios bngraph/staged and bngraph/closed.
Usage: python benchmarks/bench_batchnorm.py [--repeats N]
"""

from __future__ import annotations

import argparse
import gc
import statistics
import time
from collections.abc import Callable
from typing import Any

import numpy as np

import bngraph as bg
from bngraph.reference import batchnorm_backward, batchnorm_forward

SIZES = [(32, 64), (4096, 1024)]
DTYPES = [np.float32, np.float64]


def staged(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, dout: np.ndarray) -> Any:
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


def closed(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, dout: np.ndarray) -> Any:
    out, cache = batchnorm_forward(x, gamma, beta, eps)
    return out, batchnorm_backward(dout, cache)


def engine(x: np.ndarray, gamma: np.ndarray, beta: np.ndarray, eps: float, dout: np.ndarray) -> Any:
    run = GRAPH.forward(x=x, gamma=gamma, beta=beta, eps=eps)
    return run.outputs["out"], run.backward(dout)


GRAPH = bg.library.get("batchnorm")


def time_batch(fn: Callable[..., Any], args: tuple, number: int) -> float:
    """Seconds per call over ``number`` calls, each call's results dropped before the next."""
    start = time.perf_counter()
    for _ in range(number):
        fn(*args)
    return (time.perf_counter() - start) / number


def measure(n: int, d: int, dtype: type, repeats: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((n, d)).astype(dtype)
    gamma = rng.standard_normal(d).astype(dtype)
    beta = rng.standard_normal(d).astype(dtype)
    dout = rng.standard_normal((n, d)).astype(dtype)
    args = (x, gamma, beta, 1e-5, dout)
    contenders = {"staged": staged, "closed": closed, "bngraph": engine}
    # small sizes: batches of calls, so that the clock's resolution does not matter
    number = 200 if n * d < 100_000 else 1
    for fn in contenders.values():  # warm-up
        time_batch(fn, args, number)
    times: dict[str, list[float]] = {name: [] for name in contenders}
    names = list(contenders)
    for k in range(repeats):
        for name in names if k % 2 == 0 else reversed(names):
            gc.collect()
            times[name].append(time_batch(contenders[name], args, number))
    return {name: statistics.median(t) for name, t in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=0,
                        help="timed samples per contender (default: 40 small, 30 large)")
    args = parser.parse_args()
    print(f"{'size':>11} {'dtype':>8} {'staged':>10} {'closed':>10} {'bngraph':>10}"
          f" {'vs staged':>10} {'vs closed':>10}")
    for n, d in SIZES:
        repeats = args.repeats or (40 if n * d < 100_000 else 30)
        for dtype in DTYPES:
            med = measure(n, d, dtype, repeats)
            unit, scale = ("us", 1e6) if n * d < 100_000 else ("ms", 1e3)
            print(
                f"{n:>5}x{d:<5} {np.dtype(dtype).name:>8} "
                + " ".join(f"{med[k] * scale:>7.1f} {unit}" for k in ("staged", "closed", "bngraph"))
                + f" {med['bngraph'] / med['staged']:>9.2f}x {med['bngraph'] / med['closed']:>9.2f}x"
            )


if __name__ == "__main__":
    main()
