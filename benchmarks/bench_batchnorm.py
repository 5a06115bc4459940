"""Forward + backward of BatchNorm: bngraph against plain numpy, jax and torch.

Contenders (see ``contenders.py``), timed side by side in one process, in
alternating order, after a warm-up, at 32x64, 256x256, 4096x1024 and 16384x1024 in
float32 and float64: bngraph's nine-stage graph, the same stages written by hand
in numpy ("staged"), the closed-form backward, and, when installed, ``jax.jit`` of
the stages' forward and VJP and torch's fused batch-norm kernels on one thread.
Every contender returns fresh arrays each call. The table gives the medians of
bngraph's and staged's times and the medians of the paired per-round ratios of
bngraph to each contender (below 1: bngraph is faster).

Then the per-node cost of a 10,000-node chain (``bench_chain.py``) and the peak
memory of one forward + backward at 16384x1024 float64 (``bench_memory.py``).

Usage: python benchmarks/bench_batchnorm.py [--quick] [--sizes 32x64,...] [--readme README.md]
``--readme`` writes the tables into the README between its speed-table markers.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from bench_chain import chain_table  # noqa: E402
from bench_memory import memory_table  # noqa: E402
from contenders import CONTENDERS, peers  # noqa: E402
from timing import paired  # noqa: E402

SIZES = [(32, 64), (256, 256), (4096, 1024), (16384, 1024)]
LARGE = 1 << 22  # elements from which the cores each contender keeps busy are shown
DTYPES = [np.float32, np.float64]
MARKERS = ("<!-- speed table: make bench writes it -->", "<!-- end of speed table -->")


def inputs(n: int, d: int, dtype: Any) -> tuple[Any, ...]:
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((n, d)) * 2 + 1).astype(dtype)
    gamma, beta = rng.standard_normal(d).astype(dtype), rng.standard_normal(d).astype(dtype)
    return x, gamma, beta, 1e-5, rng.standard_normal((n, d)).astype(dtype)


def _arrays(result: Any) -> list[Any]:
    """(out, dx, dgamma, dbeta) from whatever a contender returns."""
    out, rest = result[0], result[1:]
    if len(rest) == 1:
        rest = rest[0]
    if isinstance(rest, dict):
        rest = (rest["x"], rest["gamma"], rest["beta"])
    return [np.asarray(a) for a in (out, *rest[:3])]


def check(calls: dict[str, Any], dtype: Any) -> None:
    """Every contender computes the same numbers (before any is timed)."""
    want = _arrays(calls["closed"]())
    tolerance = 1e-3 if dtype == np.float32 else 1e-8
    for name, call in calls.items():
        for a, b in zip(_arrays(call()), want, strict=True):
            scale = float(np.max(np.abs(b))) or 1.0
            assert np.max(np.abs(a - b)) <= tolerance * scale, name


def measure(n: int, d: int, dtype: Any, makers: dict[str, Any], quick: bool) -> dict[str, Any]:
    args = inputs(n, d, dtype)
    calls = {name: maker(*args) for name, maker in makers.items()}
    check(calls, dtype)
    start = time.perf_counter()
    calls["bngraph"]()
    once = time.perf_counter() - start
    number = max(1, int(0.05 / max(once, 1e-6)))
    rounds = (5 if quick else 15) if n * d < 1_000_000 else (3 if quick else 7)
    times, ratios, cores = paired(calls, number, rounds)
    del calls, args
    return {"times": times, "ratios": ratios, "cores": cores}


def duration(seconds: float) -> str:
    return f"{seconds * 1e6:.1f} us" if seconds < 1e-3 else f"{seconds * 1e3:.1f} ms"


def speed_table(sizes: list[tuple[int, int]], quick: bool) -> tuple[list[str], list[str]]:
    """The table's lines, and the notes about contenders left out."""
    optional, missing = peers()
    makers = {**CONTENDERS, **optional}
    others = [name for name in makers if name != "bngraph"]
    head = f"{'size':>11} {'dtype':>8} {'staged':>10} {'bngraph':>10}" + "".join(
        f" {'vs ' + name:>10}" for name in others)
    lines = [head]
    print(head, flush=True)
    busy = []
    for n, d in sizes:
        for dtype in DTYPES:
            found = measure(n, d, dtype, makers, quick)
            times, ratios = found["times"], found["ratios"]
            size = f"{f'{n}x{d}':>11} {np.dtype(dtype).name:>8}"
            line = (f"{size} {duration(times['staged']):>10} {duration(times['bngraph']):>10}"
                    + "".join(f" {ratios[name]:>9.2f}x" for name in others))
            lines.append(line)
            print(line, flush=True)
            if n * d >= LARGE:
                busy.append(size + "".join(f" {found['cores'][name]:>10.2f}" for name in makers))
    if busy:
        part = [f"Cores kept busy (CPU time / wall time) at the large sizes: "
                f"{', '.join(makers)}", *busy]
        print("\n".join(part), flush=True)
        lines += ["", *part]
    return lines, missing


def write_readme(path: str, text: str) -> None:
    with open(path, encoding="utf-8") as file:
        readme = file.read()
    start, end = (readme.index(marker) for marker in MARKERS)
    readme = readme[:start + len(MARKERS[0])] + "\n" + text + readme[end:]
    with open(path, "w", encoding="utf-8") as file:
        file.write(readme)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds (a first look)")
    parser.add_argument("--sizes", default=",".join(f"{n}x{d}" for n, d in SIZES))
    parser.add_argument("--readme", help="write the tables into this README")
    args = parser.parse_args()
    sizes = [tuple(int(v) for v in s.split("x")) for s in args.sizes.split(",")]
    load = os.getloadavg()[0]
    print(f"load average {load:.2f} on {os.cpu_count()} cores"
          + (" (busy: figures are noisier)" if load > 1.0 else ""), flush=True)
    lines, missing = speed_table(sizes, args.quick)  # type: ignore[arg-type]
    for note in missing:
        print(note)
    print()
    chain = chain_table(quick=args.quick)
    print()
    memory = memory_table()
    if args.readme:
        text = "```\n" + "\n".join(lines) + "\n```\n\n```\n" + "\n".join(chain + [""] + memory) \
            + "\n```\n"
        write_readme(args.readme, text)


if __name__ == "__main__":
    main()
