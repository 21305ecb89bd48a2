"""The layout every exception rule returns (`RAISED_COLUMNS`) and the helpers that make it.

sop/exceptions.py and sop/stock_exceptions.py share them: one layout, whatever the rule.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from crossdock.merchant_settings import ExceptionSettings

RAISED_COLUMNS: tuple[str, ...] = (
    "exception_id", "type", "sku", "market", "node", "subject", "problem",
    "units_affected", "value_eur", "measure", "fix", "fix_cost_eur", "default_owner",
)
"""What a rule returns per exception: the id, what it is about, what is wrong and the figures, the fix and the
default owner. units_affected in units, money in EUR, measure the share the rule compared with its threshold."""
FIGURES: tuple[str, ...] = ("units_affected", "value_eur", "measure", "fix_cost_eur")


def empty_rows() -> pd.DataFrame:
    """No exception, in RAISED_COLUMNS."""
    return pd.DataFrame({c: pd.Series(dtype=float if c in FIGURES else object) for c in RAISED_COLUMNS})


def finish_rows(rows: pd.DataFrame, exception_type: str, settings: ExceptionSettings) -> pd.DataFrame:
    """A rule's `rows` as exceptions of `exception_type`: its default owner, every RAISED_COLUMNS column, by id."""
    if rows.empty:
        return empty_rows()
    out = rows.assign(type=exception_type, default_owner=settings.owner(exception_type))
    for column in RAISED_COLUMNS:
        if column not in out:
            out[column] = np.nan if column in FIGURES else None
    return out.loc[:, list(RAISED_COLUMNS)].sort_values("exception_id", ignore_index=True)


def day_text(value: object) -> str:
    """A date as YYYY-MM-DD; empty text for none."""
    return "" if pd.isna(value) else pd.Timestamp(value).date().isoformat()
