"""Runs on dask arrays: one lazy task graph for the forward and backward passes, computed
when asked, in one pass, with the checks a numpy run makes as it goes."""

from __future__ import annotations

import threading
import warnings
from pathlib import Path
from typing import Any

import dask
import dask.array as da
import numpy as np
import pytest
from backend_cases import NUMPY_ONLY, RUNS_ANYWHERE, assert_same, convert, numpy_run

import bngraph as bg
from bngraph.errors import NonFiniteError, NonFiniteWarning, ShapeError
from bngraph.ops.arrays import NamespaceError

rng = np.random.default_rng(20261202)


class Counting:
    """An array-like that counts the chunks dask reads from it (empty reads, which dask
    makes to learn the dtype, are not counted)."""

    def __init__(self, array: np.ndarray) -> None:
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        self.reads = 0
        self._lock = threading.Lock()

    def __getitem__(self, key: Any) -> np.ndarray:
        chunk = self.array[key]
        if chunk.size:
            with self._lock:
                self.reads += 1
        return chunk


def chunked(array: np.ndarray, rows: int = 2) -> da.Array:
    return da.from_array(array, chunks=(rows,) + array.shape[1:])


@pytest.mark.parametrize("name", RUNS_ANYWHERE)
def test_library_graphs_give_numpy_s_numbers(name: str) -> None:
    inputs = bg.library.example(name)
    outputs, grads = numpy_run(name, inputs)
    run = bg.library.get(name).forward(convert(inputs, chunked))
    lazy = run.backward(**run.outputs)
    assert all(isinstance(a, da.Array) for a in (*run.outputs.values(), *lazy.values()))
    got_outputs, got = run.compute()
    # dask sums chunk by chunk, then the partial sums: another order than numpy's, a few
    # ulps apart on values of order one
    assert_same(got_outputs, outputs, rtol=1e-13)
    assert_same(got, grads, rtol=1e-13)


@pytest.mark.parametrize("name", sorted(NUMPY_ONLY))
def test_numpy_only_ops_are_named(name: str) -> None:
    with pytest.raises(NamespaceError, match=f"op {NUMPY_ONLY[name]} runs on numpy only"):
        bg.library.get(name).forward(convert(bg.library.example(name), chunked))


def test_forward_and_backward_compute_nothing_and_compute_reads_each_chunk_once() -> None:
    source = Counting(rng.standard_normal((40, 6)))
    x = da.from_array(source, chunks=(10, 6))
    g = bg.library.get("batchnorm")
    run = g.forward(x=x, gamma=np.ones(6), beta=0.0, check_finite=True)
    run.backward(rng.standard_normal((40, 6)), check_finite=True)
    assert source.reads == 0
    outputs, grads = run.compute()
    # the forward values the backward pass reads, and the check_finite reductions, come
    # from the same pass: every chunk of x is read once
    assert source.reads == x.npartitions == 4
    expected = g.forward(x=source.array, gamma=np.ones(6), beta=0.0)
    np.testing.assert_allclose(outputs["out"], expected.outputs["out"], rtol=1e-13, atol=1e-13)


def test_numpy_arrays_beside_dask_arrays_are_taken_in_as_copies() -> None:
    g = bg.library.get("batchnorm")
    x, gamma = rng.standard_normal((6, 3)), np.array([1.0, 2.0, 3.0])
    run = g.forward(x=chunked(x), gamma=gamma, beta=0.5)
    gamma[:] = 0.0  # after the run was built, before it is computed
    outputs, _ = run.compute()
    expected = g.forward(x=x, gamma=np.array([1.0, 2.0, 3.0]), beta=0.5).outputs["out"]
    np.testing.assert_allclose(outputs["out"], expected, rtol=1e-13, atol=1e-15)


def test_unknown_chunk_sizes_are_refused_with_what_to_do() -> None:
    x = chunked(np.ones((6, 2)))
    unknown = x[x[:, 0] > 0]
    with pytest.raises(ShapeError, match=r"input 'x' has unknown chunk sizes.*call "
                       r"x.compute_chunk_sizes\(\) first"):
        bg.library.get("batchnorm").forward(x=unknown, gamma=1.0, beta=0.0)
    unknown.compute_chunk_sizes()
    run = bg.library.get("batchnorm").forward(x=unknown, gamma=1.0, beta=0.0)
    assert run.dims == {"N": 6, "D": 2}


def test_a_reshape_dask_cannot_do_names_the_node_and_a_chunking_that_works() -> None:
    g = bg.parse("input x[N, D]\ny = reshape(x, shape=(4, 6))\noutput y")
    x = rng.standard_normal((6, 4))
    with pytest.raises(ShapeError) as error:
        g.forward(x=da.from_array(x, chunks=(3, 2)))
    message = str(error.value)
    assert message.startswith("node 'y' (op reshape): dask cannot reshape an array of shape "
                              "(6, 4) with chunks ((3, 3), (2, 2)) to (4, 6)")
    assert "so that axes 0, 1 are one chunk each (.rechunk({0: -1, 1: -1})" in message
    run = g.forward(x=da.from_array(x, chunks=(3, 2)).rechunk({0: -1, 1: -1}))
    outputs, _ = run.compute()
    np.testing.assert_array_equal(outputs["y"], x.reshape(4, 6))


def test_check_finite_is_one_pass_and_names_the_first_node() -> None:
    source = Counting(np.array([[1.0, 2.0], [3.0, -4.0], [5.0, 6.0]]))
    g = bg.parse("input x[N, D]\ny = log(x)\nz = sqrt(y)\noutput z")
    run = g.forward(x=da.from_array(source, chunks=(1, 2)), check_finite=True)
    assert source.reads == 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(NonFiniteError, match=r"node 'y' \(op log\) produced a non-finite "
                           r"forward value: nan at index \(1, 1\)"):
            run.compute()


def test_nan_warnings_come_with_the_results_naming_the_node() -> None:
    g = bg.parse("input x[N]\ny = sqrt(x)\nz = y * 2\noutput z")
    with warnings.catch_warnings():
        warnings.simplefilter("error", NonFiniteWarning)
        run = g.forward(x=chunked(np.array([1.0, -1.0]), 1))  # lazily: no warning yet
        run.backward()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.warns(NonFiniteWarning) as caught:
            run.compute()
    messages = [str(w.message) for w in caught]
    assert any("the output z holds NaN" in m and "node 'y' (op sqrt)" in m for m in messages)
    assert any("the gradient x holds NaN" in m and "node 'y' (op sqrt)" in m for m in messages)


def test_persist_keeps_the_results_and_compute_reads_nothing_again() -> None:
    source = Counting(rng.standard_normal((8, 3)))
    run = bg.library.get("layernorm").forward(x=da.from_array(source, chunks=(4, 3)),
                                               gamma=1.0, beta=0.0)
    run.backward()
    assert run.persist() is run
    reads = source.reads
    assert reads == 2
    outputs, grads = run.compute()
    assert source.reads == reads
    expected = bg.library.get("layernorm").forward(x=source.array, gamma=1.0, beta=0.0)
    np.testing.assert_allclose(outputs["out"], expected.outputs["out"], rtol=1e-13, atol=1e-15)
    np.testing.assert_allclose(grads["x"], expected.backward()["x"], rtol=1e-12, atol=1e-14)


def test_to_zarr_writes_every_output_and_gradient_chunk_by_chunk(tmp_path: Path) -> None:
    import zarr

    x = rng.standard_normal((10, 4))
    g = bg.library.get("batchnorm")
    run = g.forward(x=da.from_array(x, chunks=(3, 4)), gamma=np.ones(4), beta=0.0)
    run.backward()
    written = bg.backends.to_zarr(run, tmp_path / "result.zarr")
    group = zarr.open_group(str(tmp_path / "result.zarr"), mode="r")
    assert sorted(group.array_keys()) == ["grad_beta", "grad_eps", "grad_gamma", "grad_x", "out"]
    assert group["out"].chunks == (3, 4)
    expected = g.forward(x=x, gamma=np.ones(4), beta=0.0)
    np.testing.assert_allclose(group["out"][...], expected.outputs["out"], rtol=1e-13,
                               atol=1e-14)
    np.testing.assert_allclose(written.grads["x"][...], expected.backward()["x"], rtol=1e-12,
                               atol=1e-14)
    with pytest.raises(bg.errors.InputError, match="exists: remove it, or pass overwrite=True"):
        bg.backends.to_zarr(run, tmp_path / "result.zarr")


def test_bg_compute_takes_several_runs_in_one_pass() -> None:
    source = Counting(rng.standard_normal((6, 2)))
    x = da.from_array(source, chunks=(3, 2))
    first = bg.library.get("batchnorm").forward(x=x, gamma=1.0, beta=0.0)
    second = bg.library.get("layernorm").forward(x=x, gamma=1.0, beta=0.0)
    (a, _), (b, _) = bg.compute(first, second, scheduler="threads")
    assert source.reads == 2  # both runs share the chunks of x
    assert a["out"].shape == b["out"].shape == (6, 2)


def test_the_current_scheduler_is_used() -> None:
    g = bg.library.get("batchnorm")
    run = g.forward(x=chunked(rng.standard_normal((4, 2))), gamma=1.0, beta=0.0)
    with dask.config.set(scheduler="synchronous"):
        outputs, _ = run.compute()
    assert outputs["out"].shape == (4, 2)


def test_numpy_runs_compute_to_themselves() -> None:
    run = bg.library.get("batchnorm").forward(bg.library.example("batchnorm"))
    grads = run.backward()
    outputs, computed = run.compute()
    assert outputs["out"] is run.outputs["out"] and computed["x"] is grads["x"]
