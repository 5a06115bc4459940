"""The README's layers: its MLP and attention graphs, written as a user's test file, are
gradchecked in pytest with integer labels that get no gradient; and its op list names
every registered op with its signature."""

import inspect
import re
import subprocess
import sys
from pathlib import Path

import bngraph as bg

README = Path(__file__).resolve().parent.parent / "README.md"


def _section(heading: str) -> str:
    section = README.read_text().split(heading, 1)[1]
    return re.split(r"\n## ", section, maxsplit=1)[0]


def test_readme_mlp_and_attention_pass_in_pytest(tmp_path):
    blocks = re.findall(r"```python\n(.*?)```", _section("## Losses, attention and convolution"),
                        flags=re.S)
    assert len(blocks) == 1 and "grad=False" in blocks[0] and "rng.integers" in blocks[0]
    (tmp_path / "test_my_classifier.py").write_text(blocks[0])
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path),
         str(tmp_path / "test_my_classifier.py")],
        capture_output=True, text=True, cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "4 passed" in done.stdout


def test_the_op_list_has_every_op_and_its_parameters():
    rows = [line.split(" | ")[1] for line in _section("## Ops").splitlines()
            if line.startswith("| ") and not line.startswith("| op ")]
    builtins = Path(bg.ops.__file__).parent
    for name in bg.ops.op_names():
        op = bg.ops.get_op(name)
        if op.origin is not None and not Path(op.origin[0]).is_relative_to(builtins):
            continue  # an op defined elsewhere: by a test, by the seed notebook's rebuild
        row = next((r for r in rows if re.search(rf"`[^`]*\b{name}\b[^`]*`", r)), None)
        assert row is not None, f"op {name} is not in the README's op list"
        for key, _ in op.params:
            assert key in row, f"op {name}: parameter {key} is not in its row: {row}"
    assert str(inspect.signature(bg.clip)) == "(x, /, lo=None, hi=None, *, name=None)"
