"""Checks every domain runs on the data frames it is handed.

A frame read from the warehouse without a column the maths needs would
otherwise surface later as a KeyError deep inside a computation, or as NaN
rows; failing at the door names the frame and what it lacks. Planning and
compliance both check their inputs this way, so the check lives here, below
both.
"""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd


def require_columns(df: pd.DataFrame, columns: Sequence[str], frame: str) -> None:
    """Raise ValueError naming `frame` if `df` lacks any of `columns`."""
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"`{frame}` is missing columns {missing}; expected {list(columns)}")
