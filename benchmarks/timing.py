"""Side-by-side timing: paired samples in alternating order, medians and ratios.

``paired(calls, number, rounds)`` times every call ``number`` times per sample, in
one process, in the order A B C then C B A and so on (after a warm-up), with a
garbage collection before each sample so that no contender pays for another's
garbage. It returns each contender's median seconds per call, for every pair
with the first contender the median of the per-round ratios (paired ratios are
what survive a machine whose speed drifts by 20-30 % between rounds), and each
contender's median CPU time over wall time: the cores it kept busy.
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["paired", "sample"]


def sample(call: Callable[[], Any], number: int) -> tuple[float, float]:
    """Seconds per call over ``number`` calls, each call's result dropped at once, and
    the process's CPU seconds over them per wall second (every thread's)."""
    gc.collect()
    cpu, start = time.process_time(), time.perf_counter()
    for _ in range(number):
        call()
    wall = time.perf_counter() - start
    return wall / number, (time.process_time() - cpu) / wall


def paired(calls: Mapping[str, Callable[[], Any]], number: int,
           rounds: int) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Median seconds per call of each contender, the median paired ratio of the
    first contender to each other one (first / other, per round), and the median
    cores each contender kept busy."""
    names = list(calls)
    first = names[0]
    for name in names:
        sample(calls[name], max(1, number // 4))  # warm-up
    times: dict[str, list[float]] = {name: [] for name in names}
    cores: dict[str, list[float]] = {name: [] for name in names}
    ratios: dict[str, list[float]] = {name: [] for name in names[1:]}
    for k in range(rounds):
        seconds = {}
        for name in names if k % 2 == 0 else reversed(names):
            seconds[name], busy = sample(calls[name], number)
            times[name].append(seconds[name])
            cores[name].append(busy)
        for name in names[1:]:
            ratios[name].append(seconds[first] / seconds[name])
    return ({name: statistics.median(t) for name, t in times.items()},
            {name: statistics.median(r) for name, r in ratios.items()},
            {name: statistics.median(c) for name, c in cores.items()})
