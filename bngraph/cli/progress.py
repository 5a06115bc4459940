"""A progress bar on stderr for work that takes more than a second.

It stays silent when the stream is not a terminal (pipes, files, CI logs) and
until the work has taken a second, and redraws at most ten times a second.

>>> import io
>>> bar = Progress("checking", total=3, stream=io.StringIO())
>>> for _ in range(3):
...     bar.advance()
>>> bar.close()
>>> bar.stream.getvalue()  # not a terminal: nothing printed
''
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Count ``total`` steps of work called ``label``; draw a bar once it is slow."""

    delay = 1.0
    interval = 0.1
    width = 30

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = max(total, 1)
        self.stream = stream if stream is not None else sys.stderr
        self.clock = clock
        self.done = 0
        self.start = clock()
        self.last_draw: float | None = None
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())

    def advance(self, steps: int = 1) -> None:
        """Record ``steps`` more steps done, redrawing the bar if it is due."""
        self.done = min(self.done + steps, self.total)
        if not self.enabled:
            return
        now = self.clock()
        if now - self.start < self.delay:
            return
        if self.last_draw is not None and now - self.last_draw < self.interval:
            return
        self.last_draw = now
        self._draw()

    def _draw(self) -> None:
        filled = self.width * self.done // self.total
        percent = 100 * self.done // self.total
        bar = "#" * filled + "-" * (self.width - filled)
        self.stream.write(f"\r{self.label} [{bar}] {percent:3d}% ({self.done}/{self.total})")
        self.stream.flush()

    def close(self) -> None:
        """Finish the line if a bar was drawn."""
        if self.last_draw is not None:
            self._draw()
            self.stream.write("\n")
            self.stream.flush()
