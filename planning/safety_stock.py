"""Safety stock and reorder point under demand and lead-time uncertainty.

The textbook (s, Q) / (R, s, S) formulas with independent, normally
distributed daily demand and lead time. Everything is vectorised with numpy so
the same functions serve a scalar hand check and a whole plan.

Units: demand in units/day, lead time and review period in days, so safety
stock and reorder point are in units.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtri

# z of the 90th percentile of the standard normal (Φ⁻¹(0.9) = 1.28155),
# rounded as in the design. p90 - p10 spans 2 * Z_P90 standard deviations.
Z_P90: float = 1.2816


def z_for_service_level(service_level: float) -> float:
    """Safety factor z = Φ⁻¹(service_level) (dimensionless).

    A cycle service level of 0.95 gives z = 1.6449: the stock on hand at the
    reorder point covers lead-time demand in 95 % of replenishment cycles.
    """
    if not 0.0 < service_level < 1.0:
        raise ValueError(f"service_level must be in (0, 1), got {service_level!r}")
    return float(standard_normal_quantile(service_level))


def standard_normal_quantile(q: ArrayLike) -> NDArray[np.float64] | np.float64:
    """Φ⁻¹(q) elementwise: scipy.stats.norm.ppf's own formula (special.ndtri), without importing scipy.stats.

    scipy.stats takes 0.6-1 s to import and the planning modules needed only
    this from it; every process that builds the definitions paid for it.
    """
    return ndtri(np.asarray(q, dtype=float))


def sigma_from_p10_p90(p10: ArrayLike, p90: ArrayLike) -> NDArray[np.float64]:
    """Daily demand standard deviation implied by a forecast's p10 and p90.

    σ = (p90 - p10) / (2 * 1.2816), units/day. Why: for a normal distribution
    the 10 %-90 % interval is μ ± 1.2816 σ, so the quantile forecast's spread
    stands in for the demand noise around the expected demand (the forecast's
    `mean`, d̄). Only the width of the band is used, not where it sits, so the
    normal approximation is the same whatever the centre; for skewed demand it
    is an approximation either way. A crossed interval (p90 < p10) is treated
    as zero spread rather than a negative σ.
    """
    spread = np.asarray(p90, dtype=float) - np.asarray(p10, dtype=float)
    return np.clip(spread, 0.0, None) / (2.0 * Z_P90)


def safety_stock(
    z: ArrayLike,
    lead_time_days: ArrayLike,
    demand_std_daily: ArrayLike,
    mean_daily_demand: ArrayLike,
    lead_time_std_days: ArrayLike,
    review_period_days: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Safety stock SS = z * sqrt((L + R) * σ_d² + d̄² * σ_L²), in units.

    Args:
        z: safety factor, Φ⁻¹(service level).
        lead_time_days: mean supplier lead time L, days.
        demand_std_daily: standard deviation of daily demand σ_d, units/day.
        mean_daily_demand: mean daily demand d̄, units/day.
        lead_time_std_days: standard deviation of the lead time σ_L, days.
        review_period_days: review period R, days (0 = continuous review).

    Why this form: demand over the protection interval L + R is a sum of
    L + R independent daily demands (variance (L + R) σ_d²) whose length itself
    varies with the lead time (variance d̄² σ_L²); the two add because demand
    and lead time are assumed independent. With σ_L = 0 and R = 0 it reduces
    to the classic z * σ_d * sqrt(L).
    """
    L = np.asarray(lead_time_days, dtype=float)
    R = np.asarray(review_period_days, dtype=float)
    sd = np.asarray(demand_std_daily, dtype=float)
    d = np.asarray(mean_daily_demand, dtype=float)
    sl = np.asarray(lead_time_std_days, dtype=float)
    variance = (L + R) * sd**2 + d**2 * sl**2
    return np.asarray(z, dtype=float) * np.sqrt(variance)


def protection_interval_demand(
    mean_daily_demand: ArrayLike,
    lead_time_days: ArrayLike,
    review_period_days: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Expected demand over the protection interval, d̄ * (L + R), in units.

    With continuous review (R = 0) this is the lead-time demand: what is sold
    between placing an order and receiving it.
    """
    return np.asarray(mean_daily_demand, dtype=float) * (
        np.asarray(lead_time_days, dtype=float) + np.asarray(review_period_days, dtype=float)
    )


def reorder_point(
    mean_daily_demand: ArrayLike,
    lead_time_days: ArrayLike,
    safety_stock_units: ArrayLike,
    review_period_days: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """Reorder point ROP = d̄ * (L + R) + SS, in units of inventory position.

    Ordering when the inventory position (on hand + on order) falls to ROP
    leaves exactly the expected protection-interval demand plus the safety
    stock to cover the wait.
    """
    return protection_interval_demand(mean_daily_demand, lead_time_days, review_period_days) + np.asarray(
        safety_stock_units, dtype=float
    )
