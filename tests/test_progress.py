"""The command line's progress bar: silent off a terminal and for quick work."""

from __future__ import annotations

import io
import os

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


def test_check_draws_its_bar_on_a_terminal_and_not_on_a_pipe(monkeypatch) -> None:
    """The command's own wiring, on a real pseudo-terminal, with the delay injected: the bar
    shows from the first step whatever the machine's speed (it used to need a check slow
    enough to pass the one-second delay)."""
    import pty
    import sys

    from bngraph.cli import main

    monkeypatch.setattr(Progress, "delay", 0.0)  # draw from the first step
    monkeypatch.setattr(Progress, "interval", 3600.0)  # then only the last frame, at close
    args = ["check", "batchnorm", "--dim", "N=3", "--dim", "D=2", "--quiet"]
    piped = io.StringIO()
    monkeypatch.setattr(sys, "stderr", piped)
    assert main(args) == 0
    assert piped.getvalue() == ""
    primary, secondary = pty.openpty()
    with os.fdopen(secondary, "w") as terminal:
        monkeypatch.setattr(sys, "stderr", terminal)
        assert main(args) == 0
    seen = read_until_closed(primary)
    # 3x2 + 2 + 2 + 1 entries, one probe each: the first frame, then the finished bar
    assert seen.count("\rgradcheck batchnorm [") == 2, seen
    assert "]   9% (1/11)" in seen and seen.rstrip().endswith("] 100% (11/11)")


def read_until_closed(primary: int) -> str:
    """Everything written to a pseudo-terminal whose other end is closed. One `os.read` returns
    only what has arrived so far, which under load can be the first frame alone; reading the
    primary end after the last writer closed ends with EIO on Linux (or an empty read)."""
    chunks = []
    try:
        while chunk := os.read(primary, 65536):
            chunks.append(chunk)
    except OSError:
        pass
    finally:
        os.close(primary)
    return b"".join(chunks).decode()
