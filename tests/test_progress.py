"""The command line's progress bar: silent off a terminal and for quick work."""

from __future__ import annotations

import io

from bngraph.cli.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_silent_when_not_a_terminal() -> None:
    clock, stream = Clock(), io.StringIO()
    bar = Progress("gradcheck", total=10, stream=stream, clock=clock)
    clock.now = 5.0
    bar.advance(10)
    bar.close()
    assert stream.getvalue() == ""


def test_silent_for_work_under_a_second() -> None:
    clock, stream = Clock(), Terminal()
    bar = Progress("gradcheck", total=10, stream=stream, clock=clock)
    clock.now = 0.5
    bar.advance(10)
    bar.close()
    assert stream.getvalue() == ""


def test_draws_after_a_second_and_finishes_the_line() -> None:
    clock, stream = Clock(), Terminal()
    bar = Progress("gradcheck", total=4, stream=stream, clock=clock)
    clock.now = 1.5
    bar.advance()
    clock.now = 1.55  # within the redraw interval: no new frame
    bar.advance()
    assert stream.getvalue().count("\r") == 1
    assert "gradcheck [" in stream.getvalue() and " 25% (1/4)" in stream.getvalue()
    bar.close()
    assert stream.getvalue().endswith("100% (4/4)\n") is False  # 2 of 4 done
    assert stream.getvalue().endswith(" 50% (2/4)\n")
