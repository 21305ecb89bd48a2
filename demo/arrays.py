"""Small vectorised helpers shared by the simulation steps."""
from __future__ import annotations

import numpy as np


def position_in_run(keys: np.ndarray) -> np.ndarray:
    """0-based position of each element within its run of equal consecutive keys.

    Numbering lines within an order or POs within a day this way avoids a
    Python loop over hundreds of thousands of groups.
    """
    keys = np.asarray(keys)
    if len(keys) == 0:
        return np.zeros(0, dtype=np.int64)
    start = np.r_[True, keys[1:] != keys[:-1]]
    return np.arange(len(keys)) - np.flatnonzero(start)[np.cumsum(start) - 1]
