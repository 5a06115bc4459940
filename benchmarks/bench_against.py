"""BatchNorm forward + backward: this tree's engine against another commit's, in one process.

The other commit's ``bngraph`` package is exported with ``git archive`` into a temporary
folder under the name ``bngraph_ref`` (the package imports itself only relatively), so
that both engines run side by side in one process, in alternating order (A B B A ...)
after a warm-up, each call's results dropped before the next. Each round pairs one
sample of each, and the ratio this/ref is taken per round: the median of those paired
ratios is printed with its interquartile range, beside the medians of the times.

Usage: python benchmarks/bench_against.py [REF] [--repeats N] (REF defaults to main)
"""

from __future__ import annotations

import argparse
import gc
import importlib
import io
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import bngraph

SIZES = [(32, 64), (4096, 1024)]
PACKAGES: list[Any] = []  # this tree's bngraph, and the other commit's
DTYPES = [np.float32, np.float64]


def export(ref: str, folder: Path) -> Any:
    """Import ``ref``'s bngraph package as ``bngraph_ref`` from ``folder``."""
    root = Path(bngraph.__file__).resolve().parent.parent
    archive = subprocess.run(["git", "-C", str(root), "archive", ref, "bngraph"],
                             check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(folder, filter="data")
    (folder / "bngraph").rename(folder / "bngraph_ref")
    sys.path.insert(0, str(folder))
    return importlib.import_module("bngraph_ref")


def engine(package: Any) -> Callable[..., Any]:
    graph = package.library.get("batchnorm")

    def run(x: Any, gamma: Any, beta: Any, eps: float, dout: Any) -> Any:
        result = graph.forward(x=x, gamma=gamma, beta=beta, eps=eps)
        return result.outputs["out"], result.backward(dout)

    return run


def time_batch(fn: Callable[..., Any], args: tuple[Any, ...], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn(*args)
    return (time.perf_counter() - start) / number


def measure(engines: dict[str, Callable[..., Any]], n: int, d: int, dtype: type,
            repeats: int) -> tuple[dict[str, float], list[float]]:
    rng = np.random.default_rng(0)
    x, dout = (rng.standard_normal((n, d)).astype(dtype) for _ in range(2))
    gamma, beta = (rng.standard_normal(d).astype(dtype) for _ in range(2))
    args = (x, gamma, beta, 1e-5, dout)
    number = 200 if n * d < 100_000 else 1
    for fn in engines.values():  # (row passes compile after 1 large run, 100 small ones)
        time_batch(fn, args, number + 1)
    for package in PACKAGES:  # numba compiles the row passes on a worker thread meanwhile
        loops = importlib.import_module(package.__name__ + ".compile.loops")
        getattr(loops, "wait", lambda: None)()
    times: dict[str, list[float]] = {name: [] for name in engines}
    names = list(engines)
    for k in range(repeats):
        for name in names if k % 2 == 0 else reversed(names):
            gc.collect()
            times[name].append(time_batch(engines[name], args, number))
    ratios = [a / b for a, b in zip(times["this"], times["ref"], strict=True)]
    return {name: statistics.median(t) for name, t in times.items()}, ratios


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", nargs="?", default="main", help="a commit, branch or tag")
    parser.add_argument("--repeats", type=int, default=0,
                        help="rounds per size (default: 60 small, 30 large)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        PACKAGES[:] = [bngraph, export(args.ref, Path(folder))]
        engines = {"this": engine(PACKAGES[0]), "ref": engine(PACKAGES[1])}
        print(f"this tree against {args.ref}: median of paired ratios this/ref (quartiles)")
        print(f"{'size':>11} {'dtype':>8} {'this':>10} {'ref':>10} {'this/ref':>9} "
              f"{'quartiles':>13}")
        for n, d in SIZES:
            small = n * d < 100_000
            repeats = args.repeats or (60 if small else 30)
            for dtype in DTYPES:
                med, ratios = measure(engines, n, d, dtype, repeats)
                unit, scale = ("us", 1e6) if small else ("ms", 1e3)
                q1, _, q3 = statistics.quantiles(ratios, n=4)
                print(f"{n:>5}x{d:<5} {np.dtype(dtype).name:>8} "
                      + " ".join(f"{med[k] * scale:>7.1f} {unit}" for k in ("this", "ref"))
                      + f" {statistics.median(ratios):>8.3f}x {q1:>6.3f}-{q3:.3f}")


if __name__ == "__main__":
    main()
