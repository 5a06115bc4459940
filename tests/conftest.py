import sys
from pathlib import Path

# tests import their helpers (numeric.py) as plain modules
sys.path.insert(0, str(Path(__file__).parent))
