"""Where the reports point: the worst entry of an array of errors.

>>> worst(np.array([[0.1, 0.5], [float("nan"), 0.2]]))
(1, 0)
"""

from __future__ import annotations

import numpy as np

__all__ = ["worst"]


def worst(errors: np.ndarray) -> tuple[int, ...]:
    """The index of the largest entry of ``errors`` (NaN counts as largest)."""
    errors = np.asarray(errors)
    if errors.size == 0:
        return ()
    flat = np.where(np.isnan(errors), np.inf, errors).ravel()
    return tuple(int(k) for k in np.unravel_index(int(np.argmax(flat)), errors.shape))
