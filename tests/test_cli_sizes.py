"""Bad numbers and sizes beyond the machine: a clear one-line refusal (exit 2), made
before anything is allocated, never an internal error (exit 3) or a huge allocation."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from cli_run import assert_one_line_error, main_cli, run_cli

TERA = 10**12


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.parametrize(
    "args, message",
    [
        (["--dim", "N=99999999999999999999", "--dim", "D=3"],
         "--dim N: '99999999999999999999' is too large for a size (at most 2**63 - 1)"),
        (["--dim", "N=" + "9" * 100_000, "--dim", "D=3"],
         "--dim N: '999999999999999999999999'... (100,000 characters) is too large for a size"),
        (["--dim", "N=\u00b2", "--dim", "D=3"],
         "--dim N: '\u00b2' is not a size (a whole number >= 1)"),
        (["--dim", "N=0", "--dim", "D=3"], "--dim N: '0' is not a size"),
        (["--dim", "N=-4", "--dim", "D=3"], "--dim N: '-4' is not a size"),
        (["--dim", "N=4.5", "--dim", "D=3"], "--dim N: '4.5' is not a size"),
        (["--random-seed", "-1"], "--random-seed: '-1' is not a seed (a whole number >= 0)"),
        (["--random-seed", "\u00b2"], "--random-seed: '\u00b2' is not a seed"),
        (["--random-seed", "7" * 100_000], "--random-seed: '777777777777777777777777'... (100,000"),
        (["--example", "--set", "eps=nan"], "--set eps: 'nan' is not a number"),
        (["--example", "--set", "eps=1e400"], "--set eps: '1e400' is not a finite number"),
        (["--example", "--set", "eps=\u0661"], "--set eps: '\u0661' is not a number"),
        (["--example", "--max-memory", "lots"], "--max-memory: 'lots' is not an amount of memory"),
    ],
)
def test_a_bad_number_is_a_one_line_error(folder, capsys, args, message) -> None:
    result = main_cli(capsys, "run", "batchnorm", *args)
    assert_one_line_error(result, 2, message)
    assert len(result.stderr) < 300


def test_the_issues_numbers_through_the_installed_script() -> None:
    for args in (["--dim", "N=99999999999999999999", "--dim", "D=2"], ["--dim", "N=\u00b2"],
                 ["--random-seed", "-1"], ["--dim", "N=" + "1" * 100_000]):
        assert_one_line_error(run_cli("run", "batchnorm", *args), 2, "bngraph run: error: --")


def test_a_size_beyond_the_machine_is_refused_naming_the_input_and_its_size(folder, capsys) -> None:
    result = main_cli(capsys, "run", "batchnorm", "--dim", f"N={TERA}", "--dim", "D=3")
    assert_one_line_error(result, 2, "graph 'batchnorm' would need about 262 TiB",
                          f"input 'x' alone has shape ({TERA}, 3): 22 TiB",
                          "more than the memory allowed", "(the memory of this machine")


def test_a_broadcast_output_beyond_the_machine_is_refused_naming_the_node(folder, capsys) -> None:
    (folder / "outer.bng").write_text(
        "graph outer\ninput a[N, 1]\ninput b[1, M]\ny = a + b\noutput y\n")
    result = main_cli(capsys, "run", "outer.bng", "--dim", "N=1000000", "--dim", "M=1000000")
    assert_one_line_error(result, 2,
                          "node 'y' (op add) alone has shape (1000000, 1000000): 7.3 TiB")
    np.save(folder / "a.npy", np.zeros((10**6, 1)))  # 8 MB given, 8 TB broadcast
    given = main_cli(capsys, "run", "outer.bng", "--input", "a=a.npy", "--dim", "M=1000000")
    assert_one_line_error(given, 2, "node 'y' (op add) alone has shape (1000000, 1000000)")


def _header_only(shape: tuple[int, ...]) -> bytes:
    """An .npy header declaring ``shape`` float64, followed by 64 bytes of data."""
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        buffer, {"descr": "<f8", "fortran_order": False, "shape": shape})
    return buffer.getvalue() + bytes(64)


def test_an_npy_header_declaring_a_tera_element_array_is_refused_before_reading(
    folder: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    (folder / "huge.npy").write_bytes(_header_only((TERA,)))
    result = main_cli(capsys, "run", "batchnorm", "--example", "--input", "x=huge.npy")
    assert_one_line_error(result, 2, "--input x: cannot read huge.npy: its header declares "
                          f"shape ({TERA},) float64 (7.3 TiB) but it holds only 64 B of data")


def test_an_npz_member_declaring_a_tera_element_array_is_refused_before_reading(
    folder: Path, capsys: pytest.CaptureFixture[str],
) -> None:
    with zipfile.ZipFile(folder / "huge.npz", "w") as archive:
        archive.writestr("x.npy", _header_only((10**6, 10**6)))
    result = main_cli(capsys, "run", "batchnorm", "--example", "--inputs", "huge.npz")
    assert_one_line_error(result, 2, "cannot read huge.npz:x.npy: its header declares shape "
                          "(1000000, 1000000) float64 (7.3 TiB) but it holds only 64 B of data")


def test_a_compressed_archive_is_measured_before_it_is_decompressed(
    folder: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 8 KB archive holding 8 MB of zeros: refused from the sizes its headers and the
    archive state, without decompressing anything."""
    np.savez_compressed(folder / "zeros.npz", x=np.zeros((1000, 1000)), gamma=np.ones(1000),
                        beta=np.zeros(1000))
    assert (folder / "zeros.npz").stat().st_size < 20_000

    def no_reading(*args, **kwargs):
        raise AssertionError("an array was read before its size was checked")

    with monkeypatch.context() as patched:
        patched.setattr(np.lib.format, "read_array", no_reading)
        alone = main_cli(capsys, "run", "batchnorm", "--inputs", "zeros.npz", "--max-memory", "4M")
        assert_one_line_error(alone, 2, "input 'x' in zeros.npz:x.npy has shape (1000, 1000) "
                              "float64 (7.6 MiB), more than the memory allowed, 4 MiB "
                              "(--max-memory)")
        run = main_cli(capsys, "run", "batchnorm", "--inputs", "zeros.npz", "--max-memory", "40M")
        assert_one_line_error(run, 2, "graph 'batchnorm' would need about 92 MiB",
                              "input 'x' alone has shape (1000, 1000): 7.6 MiB",
                              "40 MiB (--max-memory)")
    fits = main_cli(capsys, "run", "batchnorm", "--inputs", "zeros.npz", "--max-memory", "100M",
                    "--quiet")
    assert fits.returncode == 0, fits.stderr


def test_compare_counts_both_graphs(folder, capsys) -> None:
    one = main_cli(capsys, "run", "batchnorm", "--dim", "N=1000", "--dim", "D=100", "--max-memory",
                   "12M", "--quiet")
    assert one.returncode == 0, one.stderr  # one graph needs 9.2 MiB
    both = main_cli(capsys, "compare", "batchnorm", "batchnorm", "--dim", "N=1000",
                    "--dim", "D=100", "--max-memory", "12M")
    assert_one_line_error(both, 2, "graphs 'batchnorm' and 'batchnorm' would need about 18 MiB")


def test_help_says_what_the_memory_limit_defaults_to(capsys) -> None:
    result = main_cli(capsys, "run", "--help")
    assert "--max-memory BYTES" in result.stdout
    assert "default: the physical memory of this machine" in " ".join(result.stdout.split())
