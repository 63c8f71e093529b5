"""Array helpers that numpy lacks, or does slowly."""

from __future__ import annotations

import numpy as np


def sorted_unique(values: np.ndarray) -> np.ndarray:
    """``np.unique(values)`` by sorting: numpy 2.4 answers a plain ``np.unique`` through a hash
    table, 25 times slower on the 3.6 million pair codes of a 400k clinic (3.3 s against 0.13 s).
    """
    ordered = np.sort(values)
    if ordered.size == 0:
        return ordered
    out: np.ndarray = ordered[np.r_[True, ordered[1:] != ordered[:-1]]]
    return out
