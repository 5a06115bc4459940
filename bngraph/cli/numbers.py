"""Numbers typed on the command line: sizes, seeds, input values and memory limits.

Each parser takes ASCII digits only (``int("²")`` fails and ``float("١")`` is 1.0) and
refuses, in one line that names the option, what no array could use: sizes beyond 64
bits, negative seeds, infinite or NaN values. A hostile value is never echoed whole.

>>> parse_size("64", "--dim N"), parse_seed("0"), parse_number("1e-5", "--set eps")
(64, 0, 1e-05)
>>> parse_bytes("1.5G", "--max-memory"), format_bytes(1536 * 2**20)
(1610612736, '1.5 GiB')
>>> parse_size("²", "--dim N")
Traceback (most recent call last):
...
bngraph.errors.InputError: --dim N: '²' is not a size (a whole number >= 1)
"""

from __future__ import annotations

import math
import re

from ..errors import InputError

__all__ = ["parse_size", "parse_seed", "parse_number", "parse_bytes", "format_bytes", "shown"]

MAX_SIZE = 2**63 - 1
"""No dimension of an array can be larger (numpy's sizes are 64-bit integers)."""

_DIGITS = re.compile(r"[0-9]+")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_BYTES = re.compile(r"(?P<number>[0-9]+\.?[0-9]*|\.[0-9]+)\s*(?P<unit>[kKmMgGtT]?)(?:i?B)?")
_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


def shown(text: str, limit: int = 24) -> str:
    """A value quoted for a message, shortened when it is long.

    >>> shown("7" * 100_000)
    "'777777777777777777777777'... (100,000 characters)"
    """
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit]!r}... ({len(text):,} characters)"


def parse_size(text: str, what: str) -> int:
    """A dimension's size: a whole number from 1 to 2**63 - 1."""
    if _DIGITS.fullmatch(text) is None or int(text[:20]) == 0:
        raise InputError(f"{what}: {shown(text)} is not a size (a whole number >= 1)")
    if len(text) > 19 or int(text) > MAX_SIZE:
        raise InputError(f"{what}: {shown(text)} is too large for a size (at most 2**63 - 1)")
    return int(text)


def parse_seed(text: str) -> int:
    """A seed for numpy's random generator: a whole number >= 0 (of at most 100 digits)."""
    if _DIGITS.fullmatch(text) is None or len(text) > 100:
        raise InputError(f"--random-seed: {shown(text)} is not a seed (a whole number >= 0)")
    return int(text)


def parse_number(text: str, what: str) -> float:
    """A finite number (int or float syntax)."""
    if len(text) > 400 or _NUMBER.fullmatch(text) is None:
        raise InputError(f"{what}: {shown(text)} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise InputError(f"{what}: {shown(text)} is not a finite number")
    return value


def parse_bytes(text: str, what: str) -> int:
    """A number of bytes, with an optional unit K, M, G or T (powers of 1024, with or
    without ``B`` or ``iB``): ``8G``, ``512MiB``, ``1.5GB``."""
    match = _BYTES.fullmatch(text.strip()) if len(text) <= 40 else None
    if match is None:
        raise InputError(f"{what}: {shown(text)} is not an amount of memory (like 8G or 512M)")
    value = float(match["number"]) * _UNITS[match["unit"].lower()]
    if not 0 < value < 2**63:
        raise InputError(f"{what}: {shown(text)} is not an amount of memory (like 8G or 512M)")
    return int(value)


def format_bytes(count: float) -> str:
    """Bytes for people: ``512 B``, ``7.6 MiB``, ``7.3 TiB``.

    >>> format_bytes(512), format_bytes(8 * 10**12)
    ('512 B', '7.3 TiB')
    """
    for unit, scale in (("PiB", 2**50), ("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20),
                        ("KiB", 2**10)):
        if count >= scale:
            amount = count / scale
            return f"{amount:.2g} {unit}" if amount < 10 else f"{amount:,.0f} {unit}"
    return f"{int(count)} B"
