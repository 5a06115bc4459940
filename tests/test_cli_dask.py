"""The command line at scale: ``bngraph run --scheduler``, Zarr stores in and out, ``.npy``
files read in chunks of rows, and sizes checked before anything is read."""

from __future__ import annotations

import io
import textwrap
from contextlib import redirect_stderr
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import zarr
from cli_run import assert_one_line_error, main_cli, run_cli

import bngraph as bg
from bngraph.backends import evaluate
from bngraph.cli.stores import NpyRows, lazy_npy

rng = np.random.default_rng(20261204)


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def store(path: Path, chunks: tuple[int, ...], **arrays: np.ndarray) -> None:
    group = zarr.open_group(str(path), mode="w")
    for name, array in arrays.items():
        group.create_array(name, data=array, chunks=chunks[:array.ndim])


def expected(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    run = bg.library.get("batchnorm").forward(x=x, gamma=1.0, beta=0.0)
    return run.outputs["out"], run.backward()["x"]


def test_a_run_on_a_local_cluster_writes_zarr_chunk_by_chunk(folder: Path) -> None:
    x = rng.standard_normal((400, 6)) * 3 + 1
    store(folder / "in.zarr", (100, 6), x=x)
    result = run_cli("run", "batchnorm", "--inputs", "in.zarr", "--set", "gamma=1", "--set",
                     "beta=0", "--scheduler", "local:2", "--memory-limit", "512M",
                     "-o", "out.zarr")
    assert result.returncode == 0, result.stderr
    assert "scheduler: a local cluster of 2 worker(s), 512 MiB each" in result.stderr
    assert "wrote out.zarr" in result.stdout and "computed in" in result.stdout
    written = zarr.open_group(str(folder / "out.zarr"), mode="r")
    out, dx = expected(x)
    assert written["out"].chunks == (100, 6)  # the input's chunks, never gathered
    np.testing.assert_allclose(written["out"][...], out, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(written["grad_x"][...], dx, rtol=1e-12, atol=1e-12)
    assert written["out"].attrs["finite"] is True
    assert written["out"].attrs["max"] == pytest.approx(out.max(), rel=1e-14)


def test_npy_inputs_are_read_through_a_memory_map_in_chunks_of_rows(folder: Path) -> None:
    x = rng.standard_normal((50, 3))
    np.save(folder / "x.npy", x)
    lazy = lazy_npy(folder / "x.npy")
    assert lazy.chunks == ((50,), (3,))  # whole rows; 50 rows are one chunk of 128 MiB
    np.testing.assert_array_equal(NpyRows(folder / "x.npy")[10:12], x[10:12])
    small = da.from_array(NpyRows(folder / "x.npy"), chunks=(20, 3))
    np.testing.assert_array_equal(small.compute(scheduler="synchronous"), x)


def test_an_npy_input_on_a_cluster_gives_the_numbers_of_a_numpy_run(folder: Path,
                                                                   capsys) -> None:
    x = rng.standard_normal((64, 4))
    np.save(folder / "x.npy", x)
    result = main_cli(capsys, "run", "batchnorm", "--input", "x=x.npy", "--set", "gamma=1",
                      "--set", "beta=0", "--scheduler", "local:1", "-o", "out.npz", "--quiet")
    assert result.returncode == 0, result.stderr
    with np.load(folder / "out.npz") as written:
        out, dx = expected(x)
        np.testing.assert_allclose(written["out"], out, rtol=1e-13, atol=1e-14)
        np.testing.assert_allclose(written["grad_x"], dx, rtol=1e-12, atol=1e-12)


def test_a_zarr_array_too_large_for_memory_is_refused_before_it_is_read(folder: Path,
                                                                        capsys) -> None:
    group = zarr.open_group(str(folder / "huge.zarr"), mode="w")
    group.create_array("x", shape=(10**9, 512), chunks=(10**5, 512), dtype="f8")  # no data
    result = main_cli(capsys, "run", "batchnorm", "--inputs", "huge.zarr", "--set", "gamma=1",
                      "--set", "beta=0", "--max-memory", "1G")
    assert_one_line_error(result, 2, "input 'x' in huge.zarr:x has shape (1000000000, 512) "
                          "float64 (3.7 TiB), more than the memory allowed, 1 GiB")


def test_on_a_cluster_each_chunk_must_fit_not_the_array(folder: Path, capsys) -> None:
    group = zarr.open_group(str(folder / "huge.zarr"), mode="w")
    group.create_array("x", shape=(10**6, 512), chunks=(10**6, 512), dtype="f8")
    result = main_cli(capsys, "run", "batchnorm", "--inputs", "huge.zarr", "--set", "gamma=1",
                      "--set", "beta=0", "--max-memory", "1G", "--scheduler", "local:1")
    assert_one_line_error(result, 2, "input 'x' in huge.zarr:x has chunks of shape "
                          "(1000000, 512) (3.8 GiB), more than the memory allowed, 1 GiB")


@pytest.mark.parametrize(("args", "message"), [
    (["--memory-limit", "1G"], "--memory-limit sets the memory of each worker of a local "
     "cluster: give --scheduler local too"),
    (["--scheduler", "local:0"], "--scheduler local:WORKERS"),
    (["--scheduler", "tcp://127.0.0.1:9"], "--scheduler tcp://127.0.0.1:9: cannot connect"),
    (["--scheduler", "tcp://127.0.0.1:9", "--memory-limit", "1G"],
     "--memory-limit applies to --scheduler local"),
])
def test_cluster_options_are_checked(folder: Path, capsys, args: list[str], message: str) -> None:
    result = main_cli(capsys, "run", "batchnorm", "--example", *args)
    assert_one_line_error(result, 2, message)


def test_an_output_path_that_is_not_a_zarr_store_is_left_alone(folder: Path, capsys) -> None:
    (folder / "keep.zarr").mkdir()
    (folder / "keep.zarr" / "notes.txt").write_text("mine")
    result = main_cli(capsys, "run", "batchnorm", "--example", "-o", "keep.zarr")
    assert_one_line_error(result, 2, "keep.zarr exists and is not a Zarr store")
    assert (folder / "keep.zarr" / "notes.txt").read_text() == "mine"


def test_plugin_ops_travel_to_the_workers(folder: Path) -> None:
    (folder / "my_ops.py").write_text(textwrap.dedent("""
        import numpy as np
        import bngraph as bg

        def _chunk(block):
            return block * 3

        @bg.op(vjps=[lambda g, out, x: g * 3], saves=[])
        def triple(x):  # on dask arrays, a function of this module goes into the tasks
            return x.map_blocks(_chunk) if hasattr(x, "map_blocks") else x * 3
    """))
    (folder / "tri.bng").write_text("input x[N, D]\ny = triple(x)\noutput y\n")
    x = rng.standard_normal((20, 2))
    store(folder / "in.zarr", (5, 2), x=x)
    result = run_cli("run", "tri.bng", "--plugin", "my_ops.py", "--inputs", "in.zarr",
                     "--scheduler", "local:1", "-o", "out.zarr", "--json", cwd=folder)
    assert result.returncode == 0, result.stderr
    written = zarr.open_group(str(folder / "out.zarr"), mode="r")
    np.testing.assert_array_equal(written["y"][...], 3 * x)
    np.testing.assert_array_equal(written["grad_x"][...], np.full((20, 2), 3.0))


def test_progress_goes_to_stderr_with_and_without_a_cluster() -> None:
    from distributed import Client, LocalCluster

    work = da.ones((10, 10), chunks=5).sum()
    stderr = io.StringIO()
    with redirect_stderr(stderr):
        (local,) = evaluate([work], progress=True, scheduler="threads")
    assert local == 100 and "100% Completed" in stderr.getvalue()
    stderr = io.StringIO()
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster, \
            Client(cluster), redirect_stderr(stderr):
        (remote,) = evaluate([work], progress=True)
    assert remote == 100 and "100%" in stderr.getvalue()
