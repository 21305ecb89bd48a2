"""Order quantity: the economic order quantity made orderable.

EOQ balances the fixed cost of an order against the cost of carrying the
stock it brings; suppliers then impose a minimum order quantity (MOQ) and sell
in whole packs, so the quantity is raised to the MOQ and rounded up to a pack
multiple. Vectorised with numpy.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

DAYS_PER_YEAR: float = 365.0

# Float noise (e.g. 240.00000000001 / 12) must not buy an extra pack.
_ROUNDING_TOLERANCE = 1e-9


def economic_order_quantity(
    annual_demand: ArrayLike,
    order_cost_eur: ArrayLike,
    holding_cost_eur_per_unit_year: ArrayLike,
) -> NDArray[np.float64]:
    """EOQ = sqrt(2 * D * K / H), in units (unrounded).

    Args:
        annual_demand: D, units/year.
        order_cost_eur: K, EUR per order.
        holding_cost_eur_per_unit_year: H, EUR per unit per year.

    Zero demand gives 0 (nothing to order). A non-positive H with positive
    demand has no finite EOQ and raises ValueError.
    """
    D = np.asarray(annual_demand, dtype=float)
    K = np.asarray(order_cost_eur, dtype=float)
    H = np.asarray(holding_cost_eur_per_unit_year, dtype=float)
    D, K, H = np.broadcast_arrays(D, K, H)
    if np.any((D > 0) & ~(H > 0)):
        raise ValueError("holding cost H must be > 0 wherever annual demand is > 0 (EOQ would be infinite)")
    out = np.zeros(D.shape, dtype=float)
    pos = D > 0
    out[pos] = np.sqrt(2.0 * D[pos] * K[pos] / H[pos])
    return out


def round_up_to_pack(quantity: ArrayLike, pack_size: ArrayLike) -> NDArray[np.int64]:
    """Smallest multiple of `pack_size` that is >= `quantity`, in units.

    Non-positive quantities give 0. pack_size must be >= 1.
    """
    q = np.asarray(quantity, dtype=float)
    pack = np.asarray(pack_size, dtype=float)
    if np.any(~(pack >= 1)):
        raise ValueError("pack_size must be >= 1")
    packs = np.ceil(np.clip(q, 0.0, None) / pack - _ROUNDING_TOLERANCE)
    return (np.clip(packs, 0.0, None) * pack).astype(np.int64)


def orderable_quantity(quantity: ArrayLike, moq: ArrayLike, pack_size: ArrayLike) -> NDArray[np.int64]:
    """Turn a wanted quantity into one the supplier accepts, in units.

    Positive quantities are raised to at least `moq` and then rounded UP to a
    multiple of `pack_size` (so the result is >= MOQ even when the MOQ is not a
    pack multiple). Zero or negative quantities stay 0: no order.
    """
    q = np.asarray(quantity, dtype=float)
    m = np.asarray(moq, dtype=float)
    if np.any(~(m >= 0)):
        raise ValueError("moq must be >= 0")
    wanted = np.where(q > 0, np.maximum(q, m), 0.0)
    return round_up_to_pack(wanted, pack_size)


def order_quantity(
    mean_daily_demand: ArrayLike,
    unit_cost_eur: ArrayLike,
    moq: ArrayLike,
    pack_size: ArrayLike,
    order_cost_eur: float,
    annual_carrying_rate: float,
) -> NDArray[np.int64]:
    """Order quantity Q in units: EOQ with D = d̄ * 365 and H = unit cost * carrying rate,
    then at least the MOQ and rounded up to a pack multiple; 0 when d̄ = 0.

    Args:
        mean_daily_demand: d̄, units/day.
        unit_cost_eur: purchase cost, EUR/unit.
        moq: supplier minimum order quantity, units.
        pack_size: units per pack (orders are whole packs).
        order_cost_eur: K, EUR per order.
        annual_carrying_rate: carrying cost as a fraction of unit cost per year.
    """
    annual_demand = np.asarray(mean_daily_demand, dtype=float) * DAYS_PER_YEAR
    holding = np.asarray(unit_cost_eur, dtype=float) * annual_carrying_rate
    eoq = economic_order_quantity(annual_demand, order_cost_eur, holding)
    return orderable_quantity(eoq, moq, pack_size)
