"""Runs on torch tensors (CPU and CUDA) and CuPy arrays: the run stays in the library and
on the device of its inputs. Marked ``gpu``: left out by default (CI has neither library
nor device); ``pytest -m gpu`` runs them on every library and device found here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from backend_cases import RUNS_ANYWHERE, assert_same, numpy_run

import bngraph as bg
from bngraph.ops.arrays import NamespaceError

pytestmark = pytest.mark.gpu

rng = np.random.default_rng(20261203)


@dataclass(frozen=True)
class Place:
    """A library and a device to run on, and the way arrays go there and back."""

    name: str
    to: Callable[[np.ndarray], Any]
    back: Callable[[Any], np.ndarray]
    where: Callable[[Any], str]


def _places() -> list[Any]:
    places = []
    try:
        import torch
    except ImportError:
        torch = None
    if torch is not None:
        devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        for device in devices:
            places.append(Place(f"torch-{device}",
                                lambda a, d=device: torch.asarray(a, device=d),
                                lambda t: t.detach().cpu().numpy(),
                                lambda t: t.device.type))
    try:
        import cupy

        if cupy.cuda.runtime.getDeviceCount() > 0:
            places.append(Place("cupy", cupy.asarray, cupy.asnumpy, lambda a: "cuda"))
    except Exception:  # noqa: BLE001 - no CuPy, or no device for it
        pass
    return [pytest.param(p, id=p.name) for p in places] or [pytest.param(None, id="none")]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Every library and device found, looked for only when the gpu tests are selected
    (importing torch takes seconds)."""
    if "place" in metafunc.fixturenames:
        selected = "gpu" in metafunc.config.option.markexpr.replace("not gpu", "")
        params = _places() if selected else [pytest.param(None, id="none")]
        metafunc.parametrize("place", params, indirect=True)


@pytest.fixture
def place(request: pytest.FixtureRequest) -> Place:
    if request.param is None:
        pytest.fail("the gpu tests need torch or CuPy: pip install torch (or cupy) to run them")
    return request.param


def _device(place: Place, name: str) -> str:
    return name.split("-")[1] if place.name.startswith("torch") else "cuda"


@pytest.mark.parametrize("name", RUNS_ANYWHERE)
def test_library_graphs_stay_in_the_library_and_on_the_device(place: Place, name: str) -> None:
    inputs = bg.library.example(name)
    outputs, grads = numpy_run(name, inputs)
    given = {k: v if type(v) in (int, float) else place.to(np.asarray(v, dtype=np.float64))
             for k, v in inputs.items()}
    run = bg.library.get(name).forward(given)
    got = run.backward(**run.outputs)
    device = _device(place, place.name)
    for array in (*run.outputs.values(), *got.values()):
        assert place.where(array) == device
    # the same operations, the library's own kernels: a few ulps of values of order one
    assert_same({k: place.back(v) for k, v in run.outputs.items()}, outputs, rtol=1e-12)
    assert_same({k: place.back(v) for k, v in got.items()}, grads, rtol=1e-12)


def test_erf_and_gelu_run_on_the_library(place: Place) -> None:
    g = bg.parse("input x[N]\ny = gelu(x)\noutput y")
    x = rng.uniform(-3, 3, 9)
    expected = g.forward(x=x)
    run = g.forward(x=place.to(x))
    np.testing.assert_allclose(place.back(run.outputs["y"]), expected.outputs["y"], rtol=1e-13)
    np.testing.assert_allclose(place.back(run.backward()["x"]), expected.backward()["x"],
                               rtol=1e-13)


def test_gradients_and_outputs_never_share_memory_with_the_caller(place: Place) -> None:
    g = bg.parse("input x[N, D]\ny = reshape(x, shape=(-1,))\nz = sqrt(y)\noutput y, z")
    x = np.arange(1.0, 7.0).reshape(2, 3)
    seed = place.to(np.ones(6))
    run = g.forward(x=place.to(x))
    run.outputs["z"][...] = 100.0  # the backward pass reads z: editing it changes nothing
    grads = run.backward(y=seed, z=seed)
    grads["x"][...] = -1.0  # a reshape of the seed plus more: never the seed itself
    np.testing.assert_array_equal(place.back(seed), np.ones(6))
    expected = g.forward(x=x).backward(y=np.ones(6), z=np.ones(6))["x"]
    np.testing.assert_allclose(place.back(g.forward(x=place.to(x)).backward(y=seed, z=seed)["x"]),
                               expected, rtol=1e-15)


def test_numpy_arrays_beside_the_library_are_refused(place: Place) -> None:
    with pytest.raises(NamespaceError, match="input 'gamma' is a numpy array"):
        bg.library.get("batchnorm").forward(x=place.to(np.ones((3, 2))), gamma=np.ones(2),
                                            beta=0.0)
