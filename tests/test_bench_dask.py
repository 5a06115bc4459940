"""The path of ``benchmarks/bench_dask.py``, small: x generated chunk by chunk into Zarr,
BatchNorm forward and backward on a LocalCluster of 2 workers, out and the gradients
written to Zarr, dgamma, dbeta and sampled rows of dx checked against the streaming
reference."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import numpy as np

BENCH = Path(__file__).resolve().parent.parent / "benchmarks" / "bench_dask.py"


def load_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_dask", BENCH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_s_path_small(tmp_path: Path, capsys) -> None:
    bench = load_bench()
    result = bench.main(["--gib", "0.03", "--columns", "64", "--chunk-mib", "1",
                         "--memory-limit", "1G", "--folder", str(tmp_path)])
    printed = capsys.readouterr().out
    layout = result["layout"]
    assert layout.nbytes >= 0.03 * 2**30 and layout.chunks >= 30  # tens of MB, many chunks
    assert result["ok"] and not result["restarted"], printed
    assert set(result["errors"]) == {"dgamma", "dbeta", "dx"}
    assert all(error <= bench.TOLERANCE for error in result["errors"].values())
    assert len(result["peaks"]) == 2 and all(p > 0 for p in result["peaks"].values())
    assert "check passed" in printed and "workers restarted: none" in printed


def test_the_reference_is_the_closed_form() -> None:
    """The streaming reference against the closed form of bngraph.reference on a small x
    held whole in memory (a check of the check)."""
    from bngraph.reference import batchnorm_backward, batchnorm_forward

    bench = load_bench()
    layout = bench.Layout(rows=50, columns=3, chunk_rows=8)
    x = np.concatenate([bench.x_block(layout, i, a, b) for i, a, b in layout.blocks()])
    dout = np.concatenate([bench.dout_block(i, b - a, 3) for i, a, b in layout.blocks()])
    gamma, beta = bench.gamma_beta(3)
    rows = bench.sampled_rows(layout)
    got = bench.reference(layout, _Whole(x), rows)
    _, cache = batchnorm_forward(x, gamma, beta, 1e-5)
    expected = batchnorm_backward(dout, cache)
    # the same closed form summed in another order: float64 sums of 50 terms agree to
    # about 1e-15 relative
    np.testing.assert_allclose(got["dgamma"], expected["gamma"], rtol=1e-13)
    np.testing.assert_allclose(got["dbeta"], expected["beta"], rtol=1e-13)
    np.testing.assert_allclose(got["dx"], expected["x"][rows], rtol=1e-12, atol=1e-15)


class _Whole:
    """A numpy array read as the reference reads a Zarr array."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __getitem__(self, key: object) -> np.ndarray:
        return self.array[key]

    def get_orthogonal_selection(self, key: tuple[np.ndarray, slice]) -> np.ndarray:
        return self.array[key]
