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
    # the messy profile (demo/messy/): streams of its own, so the tidy files never move
    "messy_catalogue": 11,
    "messy_orders": 12,
    "messy_pricing": 13,
    "messy_wholesale": 14,
    "messy_write_offs": 15,
    "messy_supply": 16,
    "messy_not_stocked": 17,
}


def stream(seed: int, name: str) -> np.random.Generator:
    """A generator for step `name`, reproducible from `seed` alone."""
    return np.random.default_rng([int(seed), STREAMS[name]])
