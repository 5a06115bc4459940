import sys
from pathlib import Path

# tests import their helpers (numeric.py) as plain modules
sys.path.insert(0, str(Path(__file__).parent))

import pytest  # noqa: E402


@pytest.fixture(autouse=True)
def _compile_passes_in_the_foreground(monkeypatch: pytest.MonkeyPatch) -> None:
    """Large compiled plans compile their fused passes on the run that asks, not on a
    thread of their own: no test measures memory or time while numba works beside it.
    ``tests/test_compile_rows.py`` checks the background way."""
    from bngraph.compile import loops

    monkeypatch.setattr(loops, "COMPILE_IN_BACKGROUND", False)
