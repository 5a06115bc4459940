"""The pytest plugin, as a user's test session sees it: a separate pytest process on a
test file of its own, with the plugin loaded from its pytest11 entry point."""

import subprocess
import sys
import textwrap

USER_TEST = textwrap.dedent('''
    import numpy as np
    import bngraph as bg

    def test_draws(rng, norm_inputs, bngraph_seed):
        inputs = norm_inputs((4, 3), dtype=np.float32)
        assert inputs["x"].dtype == np.float32 and inputs["gamma"].shape == (3,)
        print("DRAW", bngraph_seed, rng.standard_normal(), float(inputs["x"][0, 0]))

    def test_my_layer(norm_inputs):
        report = bg.testing.gradcheck(bg.library.get("layernorm"), norm_inputs((3, 5)), seed=0)
        assert report.ok
''')


def _run(tmp_path, *args):
    (tmp_path / "test_user.py").write_text(USER_TEST)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-s", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(tmp_path / "test_user.py"), *args],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def _draw(output):
    return next(line for line in output.splitlines() if "DRAW" in line).split("DRAW", 1)[1]


def test_fixtures_are_seeded_and_the_seed_option_changes_them(tmp_path):
    first = _run(tmp_path, "--bngraph-seed=7")
    again = _run(tmp_path, "--bngraph-seed=7")
    other = _run(tmp_path, "--bngraph-seed=8")
    assert _draw(first) == _draw(again)
    assert _draw(first) != _draw(other)
    assert "2 passed" in first


def test_header_reports_the_seed(tmp_path):
    output = _run(tmp_path, "--bngraph-seed=42", "-v")
    assert "bngraph seed: 42" in output


def test_each_test_gets_its_own_stream(rng, bngraph_seed, request):
    """The seed mixes the base seed with the test id: two tests do not share numbers."""
    import zlib

    base = request.config.getoption("--bngraph-seed")
    assert bngraph_seed == (base * 1_000_003 + zlib.crc32(request.node.nodeid.encode())) % 2**32
