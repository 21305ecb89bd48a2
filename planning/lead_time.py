"""Which lead time to plan with: the supplier's record or its quote.

Actual receipts say how long orders really take; a quote is a promise. With
too few receipts the sample mean and std are noise, so the quote is used with
an assumed spread instead. The choice is recorded per SKU so a planner can see
which lines rest on a promise.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

MIN_RECEIPTS: int = 3
"""Receipts needed before the observed lead time replaces the quote."""

QUOTED_STD_FRACTION: float = 0.25
"""σ_L assumed for a quoted lead time, as a fraction of the quote (days per day)."""

SOURCE_RECEIPTS = "receipts"
SOURCE_QUOTED = "quoted"


def resolve_lead_times(lead_times: pd.DataFrame) -> pd.DataFrame:
    """Lead time mean and std per SKU, from receipts when there are enough.

    Args:
        lead_times: sku, n_receipts, lead_time_mean_days, lead_time_std_days,
            quoted_lead_time_days; one row per SKU (its primary supplier).
            Observed figures are received_at - ordered_at over received POs.

    Returns sku, lead_time_days, lead_time_std_days (days) and
    lead_time_source: 'receipts' when n_receipts >= 3 and both observed figures
    are present, else 'quoted' with L = quoted and σ_L = 0.25 * quoted.
    Raises ValueError naming SKUs that need the quote but have none.
    """
    lt = lead_times
    n = pd.to_numeric(lt["n_receipts"], errors="coerce").fillna(0).to_numpy()
    mean = pd.to_numeric(lt["lead_time_mean_days"], errors="coerce").to_numpy(dtype=float)
    std = pd.to_numeric(lt["lead_time_std_days"], errors="coerce").to_numpy(dtype=float)
    quoted = pd.to_numeric(lt["quoted_lead_time_days"], errors="coerce").to_numpy(dtype=float)

    use_receipts = (n >= MIN_RECEIPTS) & np.isfinite(mean) & np.isfinite(std)
    bad = ~use_receipts & ~(quoted >= 0)
    if bad.any():
        skus = sorted(lt.loc[bad, "sku"].astype(str).unique())
        raise ValueError(f"SKUs with fewer than {MIN_RECEIPTS} receipts and no valid quoted lead time: {skus}")

    return pd.DataFrame(
        {
            "sku": lt["sku"].to_numpy(),
            "lead_time_days": np.where(use_receipts, mean, quoted),
            "lead_time_std_days": np.where(use_receipts, std, QUOTED_STD_FRACTION * quoted),
            "lead_time_source": np.where(use_receipts, SOURCE_RECEIPTS, SOURCE_QUOTED),
        }
    )
