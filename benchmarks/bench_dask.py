"""BatchNorm forward and backward over an x larger than the cluster's memory, on dask.distributed.

1. x (float64, 4 GiB by default) is generated chunk by chunk into a Zarr store (never
   whole in memory): column j holds m_j + s_j * z with z standard normal, so that
   the batch statistics are not trivial.
2. The nine-stage BatchNorm graph runs on a ``LocalCluster`` of 2 worker processes
   whose memory limits together are less than x (2 x 1.25 GiB by default): x read
   from the store, dout generated chunk by chunk on the workers, gamma and beta
   numpy arrays beside them. ``forward`` and ``backward`` build one task graph;
   ``bngraph.backends.to_zarr`` computes it in one pass, writing out and every
   gradient (dx among them) to a Zarr store where they are computed.
3. Printed: the time of the run, each worker's peak memory (the workers' own peak
   resident set size, asked of the cluster), and whether any worker was restarted
   (their process ids before and after).
4. Checked against a streaming float64 reference that reads x chunk by chunk (two
   passes: the mean, then the variance with dgamma and dbeta): dgamma, dbeta and
   sampled rows of dx (16 in each of 4 chunks) to 1e-10 relative. Both sides sum
   2^20 terms of order one per column in float64, in different orders: they agree
   to about 1e-15 relative, and a wrong formula would be off by order one.

Usage: python benchmarks/bench_dask.py [--gib 4] [--columns 512] [--chunk-mib 32]
       [--workers 2] [--memory-limit 1.25G] [--folder DIR] [--keep]
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import bngraph as bg
from bngraph.cli.numbers import parse_bytes

SEED = 20261130
TOLERANCE = 1e-10


@dataclass(frozen=True)
class Layout:
    """The shape of x and of its chunks (whole rows)."""

    rows: int
    columns: int
    chunk_rows: int

    @property
    def nbytes(self) -> int:
        return self.rows * self.columns * 8

    @property
    def chunks(self) -> int:
        return math.ceil(self.rows / self.chunk_rows)

    def blocks(self) -> Iterator[tuple[int, int, int]]:
        """``(index, start, stop)`` of every chunk of rows."""
        for index in range(self.chunks):
            start = index * self.chunk_rows
            yield index, start, min(start + self.chunk_rows, self.rows)


def layout_for(nbytes: int, columns: int, chunk_bytes: int) -> Layout:
    chunk_rows = max(1, chunk_bytes // (columns * 8))
    rows = math.ceil(nbytes / (columns * 8) / chunk_rows) * chunk_rows
    return Layout(rows, columns, chunk_rows)


def column_stats(columns: int) -> tuple[np.ndarray, np.ndarray]:
    """Each column's mean and spread: m_j in [-5, 5], s_j in [0.5, 3]."""
    rng = np.random.default_rng([SEED, 1])
    return rng.uniform(-5, 5, columns), rng.uniform(0.5, 3, columns)


def x_block(layout: Layout, index: int, start: int, stop: int) -> np.ndarray:
    m, s = column_stats(layout.columns)
    z = np.random.default_rng([SEED, 2, index]).standard_normal((stop - start, layout.columns))
    return m + s * z


def dout_block(index: int, rows: int, columns: int) -> np.ndarray:
    """The backward seed's chunk ``index``: standard normal, the same wherever computed."""
    return np.random.default_rng([SEED, 3, index]).standard_normal((rows, columns))


def generate(layout: Layout, path: Path) -> Any:
    """x into a Zarr store, one chunk of rows at a time."""
    import zarr

    store = zarr.create_array(str(path), shape=(layout.rows, layout.columns), dtype="f8",
                              chunks=(layout.chunk_rows, layout.columns), compressors=None,
                              overwrite=True)
    for index, start, stop in layout.blocks():
        store[start:stop] = x_block(layout, index, start, stop)
    return store


def lazy_dout(layout: Layout) -> Any:
    """The backward seed as a dask array: each chunk drawn on the worker that needs it,
    as ``dout_block`` draws it (by a numpy generator's own method: no function of this
    module has to travel to the workers)."""
    import dask
    import dask.array as da

    blocks = []
    for index, start, stop in layout.blocks():
        draw = np.random.default_rng([SEED, 3, index]).standard_normal
        blocks.append(da.from_delayed(dask.delayed(draw)((stop - start, layout.columns)),
                                      shape=(stop - start, layout.columns), dtype=np.float64))
    return da.concatenate(blocks, axis=0)


def gamma_beta(columns: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng([SEED, 4])
    return rng.uniform(0.5, 2, columns), rng.uniform(-1, 1, columns)


def run_on_cluster(layout: Layout, x_path: Path, out_path: Path, client: Any) -> float:
    """The graph on the cluster: out and every gradient written to ``out_path``."""
    import dask.array as da

    gamma, beta = gamma_beta(layout.columns)
    start = time.perf_counter()
    run = bg.library.get("batchnorm").forward(x=da.from_zarr(str(x_path)), gamma=gamma,
                                              beta=beta)
    run.backward(lazy_dout(layout))
    bg.backends.to_zarr(run, out_path, overwrite=True)
    return time.perf_counter() - start


def reference(layout: Layout, x: Any, rows: np.ndarray, eps: float = 1e-5) -> dict[str, Any]:
    """dgamma, dbeta and the rows ``rows`` of dx, streaming over x's chunks in float64."""
    gamma, _ = gamma_beta(layout.columns)
    total = np.zeros(layout.columns)
    for _, start, stop in layout.blocks():
        total += x[start:stop].sum(axis=0)
    mu = total / layout.rows
    squares, dbeta, cross = (np.zeros(layout.columns) for _ in range(3))
    for index, start, stop in layout.blocks():
        xmu = x[start:stop] - mu
        dout = dout_block(index, stop - start, layout.columns)
        squares += (xmu * xmu).sum(axis=0)
        dbeta += dout.sum(axis=0)
        cross += (dout * xmu).sum(axis=0)
    ivar = 1.0 / np.sqrt(squares / layout.rows + eps)
    dgamma = cross * ivar  # Σ dout · xhat, ivar being one number per column
    xhat = (x.get_orthogonal_selection((rows, slice(None))) - mu) * ivar
    dout = np.concatenate([_seed_rows(layout, index, rows) for index in
                           np.unique(rows // layout.chunk_rows)])
    dx = (gamma * ivar / layout.rows) * (layout.rows * dout - dbeta - xhat * dgamma)
    return {"dgamma": dgamma, "dbeta": dbeta, "dx": dx}


def _seed_rows(layout: Layout, index: int, rows: np.ndarray) -> np.ndarray:
    """The rows of the backward seed among ``rows`` that chunk ``index`` holds."""
    start = index * layout.chunk_rows
    stop = min(start + layout.chunk_rows, layout.rows)
    mine = rows[(rows >= start) & (rows < stop)]
    return dout_block(int(index), stop - start, layout.columns)[mine - start]


def sampled_rows(layout: Layout) -> np.ndarray:
    """Rows of dx to check: 16 at random in each of 4 chunks drawn at random (the last
    chunk always among them), sorted."""
    rng = np.random.default_rng([SEED, 5])
    chunks = {layout.chunks - 1, *rng.choice(layout.chunks, 3, replace=True).tolist()}
    rows = []
    for index in sorted(chunks):
        start = index * layout.chunk_rows
        stop = min(start + layout.chunk_rows, layout.rows)
        rows.append(rng.choice(np.arange(start, stop), min(16, stop - start), replace=False))
    return np.sort(np.concatenate(rows))


def relative(got: np.ndarray, expected: np.ndarray) -> float:
    """The largest difference relative to the largest magnitude of ``expected``."""
    return float(np.max(np.abs(got - expected)) / np.max(np.abs(expected)))


def check(layout: Layout, x_path: Path, out_path: Path) -> dict[str, float]:
    import zarr

    rows = sampled_rows(layout)
    expected = reference(layout, zarr.open_array(str(x_path), mode="r"), rows)
    written = zarr.open_group(str(out_path), mode="r")
    got = {"dgamma": written["grad_gamma"][...], "dbeta": written["grad_beta"][...],
           "dx": written["grad_x"].get_orthogonal_selection((rows, slice(None)))}
    return {name: relative(got[name], expected[name]) for name in expected}


def gib(count: float) -> str:
    """Bytes in GiB, three significant digits: ``1.25 GiB``."""
    return f"{count / 2**30:.3g} GiB"


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=4.0, help="the size of x (default 4)")
    parser.add_argument("--columns", type=int, default=512)
    parser.add_argument("--chunk-mib", type=float, default=32.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--memory-limit", default="1.25G", help="per worker (default 1.25G)")
    parser.add_argument("--folder", help="where the stores go (default: a temporary folder)")
    parser.add_argument("--keep", action="store_true", help="keep the stores")
    args = parser.parse_args(argv)
    from distributed import Client, LocalCluster

    layout = layout_for(int(args.gib * 2**30), args.columns, int(args.chunk_mib * 2**20))
    limit = parse_bytes(args.memory_limit, "--memory-limit")
    folder = Path(args.folder or tempfile.mkdtemp(prefix="bench_dask_"))
    folder.mkdir(parents=True, exist_ok=True)
    x_path, out_path = folder / "x.zarr", folder / "result.zarr"
    print(f"x: {layout.rows} x {layout.columns} float64, {gib(layout.nbytes)} in "
          f"{layout.chunks} chunks of {layout.chunk_rows} rows; cluster: {args.workers} workers "
          f"x {gib(limit)} = {gib(args.workers * limit)}")
    try:
        start = time.perf_counter()
        generate(layout, x_path)
        print(f"generated x into {x_path.name} in {time.perf_counter() - start:.1f} s")
        with LocalCluster(n_workers=args.workers, threads_per_worker=1, memory_limit=limit,
                          dashboard_address=None, local_directory=str(folder / "spill")
                          ) as cluster, Client(cluster) as client:
            pids = client.run(os.getpid)
            seconds = run_on_cluster(layout, x_path, out_path, client)
            # each worker process's own peak resident set size (Linux counts it in KiB)
            usage = client.run(resource.getrusage, resource.RUSAGE_SELF)
            peaks = {worker: u.ru_maxrss * 1024 for worker, u in usage.items()}
            after = client.run(os.getpid)
        restarted = pids != after
        print(f"forward + backward, out and gradients written to Zarr: {seconds:.1f} s")
        for address, peak in sorted(peaks.items()):
            print(f"  worker {address}: peak memory {gib(peak)} (limit {gib(limit)})")
        print(f"  workers restarted: {'yes' if restarted else 'none'}")
        errors = check(layout, x_path, out_path)
        ok = all(e <= TOLERANCE for e in errors.values()) and not restarted
        for name, error in errors.items():
            print(f"  {name}: largest difference from the streaming reference {error:.2e} "
                  f"relative (tolerance {TOLERANCE:g})")
        print("check passed" if ok else "CHECK FAILED")
        return {"seconds": seconds, "peaks": peaks, "restarted": restarted, "errors": errors,
                "ok": ok, "layout": layout}
    finally:
        if not args.keep and args.folder is None:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(0 if main()["ok"] else 1)
