"""How long the parser takes on hostile texts: each must end, error or graph, within a second.

Run: .venv/bin/python benchmarks/bench_dsl_hostile.py
Prints the median of five runs for each text and what it ended in.
"""

from __future__ import annotations

import statistics
import time

import bngraph as bg
from bngraph.dsl.frame import MAX_CHARS


def chain(limit: int) -> str:
    lines, size, i = ["input x"], 8, 1
    while size < limit - 100:
        line = f"y{i} = y{i - 1} * 2 + x" if i > 1 else "y1 = x * 2 + x"
        lines.append(line)
        size += len(line) + 1
        i += 1
    return "\n".join(lines) + f"\noutput y{i - 1}\n"


CASES = {
    "10,000 nested parentheses": "input x\ny = " + "(" * 10_000 + "x" + ")" * 10_000 + "\noutput y",
    "10,000 nested calls": "input x\ny = " + "neg(" * 10_000 + "x" + ")" * 10_000 + "\noutput y",
    "100,000 unary minus": "input x\ny = " + "-" * 100_000 + "x\noutput y",
    "100,000-char sum": "input x\ny = " + "+".join(["x"] * 50_000) + "\noutput y",
    "100,000-char valid line": "input x\ny = -x" + " " * 100_000 + "\noutput y",
    "8 MB of comments": "input x\n" + "# comment\n" * 800_000 + "y = -x\noutput y\n",
    "text just under the limit": chain(MAX_CHARS),
}


def main() -> None:
    print(f"{'text':28} {'chars':>10} {'median':>9}  result")
    for name, text in CASES.items():
        times, result = [], ""
        for _ in range(5):
            start = time.perf_counter()
            try:
                graph = bg.parse(text)
                result = f"graph of {len(graph)} nodes"
            except bg.DSLSyntaxError as error:
                result = f"{type(error).__name__}: {error.msg[:50]}"
            times.append(time.perf_counter() - start)
        print(f"{name:28} {len(text):>10,} {statistics.median(times) * 1e3:>7.1f}ms  {result}")


if __name__ == "__main__":
    main()
