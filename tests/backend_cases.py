"""What the backend tests share: the library graphs each library runs, their inputs in
any library, and the numpy run every other library is compared with."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

import bngraph as bg

NUMPY_ONLY = {"softmax_cross_entropy": "take_along_axis", "mlp": "take_along_axis",
              "conv_bn_relu": "conv2d"}
"""The library graphs with an op that runs on numpy only, and that op."""

RUNS_ANYWHERE = [name for name in bg.library.names() if name not in NUMPY_ONLY]


def convert(inputs: dict[str, Any], to: Callable[[np.ndarray], Any]) -> dict[str, Any]:
    """``inputs`` with every array (numpy scalars too) given in another library; Python
    numbers stay numbers."""
    return {name: value if type(value) in (int, float) else to(np.asarray(value))
            for name, value in inputs.items()}


def numpy_run(name: str, inputs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Outputs and gradients (seeded with the outputs themselves) of a numpy run."""
    run = bg.library.get(name).forward(inputs)
    return dict(run.outputs), run.backward(**run.outputs)


def assert_same(got: dict[str, Any], expected: dict[str, Any], rtol: float) -> None:
    """Every array of ``got`` (any library, converted to numpy) equals ``expected``."""
    assert set(got) == set(expected)
    for name, value in expected.items():
        np.testing.assert_allclose(np.asarray(got[name]), value, rtol=rtol, atol=rtol,
                                   err_msg=name)
