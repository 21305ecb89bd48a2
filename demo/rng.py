"""Named random streams derived from the one user seed.

Each simulation step draws from its own stream so that changing one step
(say, the carrier model) does not reshuffle the numbers of every other file.
Stream ids are fixed integers, never Python's salted hash().
"""
from __future__ import annotations

import numpy as np

STREAMS: dict[str, int] = {
    "catalogue": 1,
    "demand": 2,
    "orders": 3,
    "supply": 4,
    "carriers": 5,
    "pricing": 6,
}


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator for step `name`, reproducible from `seed` alone."""
    return np.random.default_rng([int(seed), STREAMS[name]])
