"""The bngraph pytest plugin, registered as a ``pytest11`` entry point (loaded automatically).

- ``--bngraph-seed=N`` (default 0): the base seed of every random fixture; the
  header of the test session prints it.
- ``rng``: a ``numpy.random.Generator`` seeded from the base seed and the test's
  id, so that each test draws its own reproducible numbers.
- ``norm_inputs``: a factory, ``norm_inputs((N, D), dtype=np.float32,
  scalar_params=False, eps=1e-5)`` -> ``{"x", "gamma", "beta", "eps"}`` drawn from ``rng``.
- ``gradcheck`` without ``seed=`` uses the test's seed (``bngraph_seed``), so a
  failing check fails the same way on every run and with every ``--bngraph-seed``
  it was run with.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
import pytest

from .gradcheck import seeded
from .inputs import norm_inputs as _norm_inputs

__all__ = [
    "pytest_addoption", "pytest_report_header", "rng", "norm_inputs", "bngraph_seed",
    "bngraph_gradcheck_seed",
]


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("bngraph")
    group.addoption(
        "--bngraph-seed", type=int, default=0, metavar="N",
        help="base seed of the bngraph rng and norm_inputs fixtures (default 0)",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"bngraph seed: {config.getoption('--bngraph-seed')}"


@pytest.fixture
def bngraph_seed(request: pytest.FixtureRequest) -> int:
    """This test's seed: the ``--bngraph-seed`` base mixed with the test's id."""
    base = int(request.config.getoption("--bngraph-seed"))
    return (base * 1_000_003 + zlib.crc32(request.node.nodeid.encode())) % 2**32


@pytest.fixture(autouse=True)
def bngraph_gradcheck_seed(bngraph_seed: int) -> Iterator[int]:
    """Every test: ``gradcheck`` and ``check_nodes`` without ``seed=`` use the test's seed."""
    with seeded(bngraph_seed):
        yield bngraph_seed


@pytest.fixture
def rng(bngraph_seed: int) -> np.random.Generator:
    """A numpy generator seeded per test (see ``--bngraph-seed``)."""
    return np.random.default_rng(bngraph_seed)


@pytest.fixture
def norm_inputs(rng: np.random.Generator) -> Callable[..., dict[str, Any]]:
    """A factory of normalization inputs: ``norm_inputs(shape, dtype=np.float64, *,
    scalar_params=False, eps=1e-5)``."""

    def make(shape: tuple[int, ...], dtype: Any = np.float64, **options: Any) -> dict[str, Any]:
        return _norm_inputs(rng, tuple(shape), dtype, **options)

    return make
