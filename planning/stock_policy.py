"""Safety stock and reorder point per row, by the method its demand class calls for.

Two methods, chosen per class in planning/service_levels.yaml: the normal
formula (planning.safety_stock) and quantiles of simulated lead-time demand
(planning.lead_time_demand). The default config simulates every pattern: in
tests/test_planning_simulation.py the normal formula under-delivers even on
smooth demand once orders are whole units placed when the position crosses
the reorder point (0.923 for a 0.95 target), and badly on lumpy demand
(0.853). Rows without a sales history fall back to the normal formula. One
entry point serves the plan and the service-level trade-off, so both price
stock the same way.
"""
from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from planning.lead_time_demand import simulated_reorder_point
from planning.safety_stock import reorder_point, safety_stock, standard_normal_quantile

NORMAL = "normal"
SIMULATED = "simulated"
METHODS = (NORMAL, SIMULATED)


def stock_targets(
    method: ArrayLike,
    service_level: ArrayLike,
    mean_daily_demand: ArrayLike,
    demand_std_daily: ArrayLike,
    lead_time_days: ArrayLike,
    lead_time_std_days: ArrayLike,
    review_period_days: float,
    demand_samples: NDArray[np.float64] | None,
    seed: int = 7,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """(safety_stock, reorder_point) per row, in units.

    Args:
        method: per row "normal" or "simulated".
        service_level: per row target cycle service level in (0, 1); or
            [rows, m] for m levels per row, which then shapes both results
            (the simulated rows are simulated once for all m).
        mean_daily_demand, demand_std_daily: d̄ and σ_d, units/day.
        lead_time_days, lead_time_std_days: L and σ_L, days.
        review_period_days: R, days.
        demand_samples: [rows, k] recent daily demand per row (needed by the
            simulated rows; None falls back to the normal formula and is the
            caller's choice to report).
        seed: for the simulated rows, so a plan is reproducible.
    """
    method = np.asarray(method, dtype=object)
    unknown = sorted(set(method.tolist()) - set(METHODS))
    if unknown:
        raise ValueError(f"unknown safety-stock methods {unknown}; expected {list(METHODS)}")
    sl = np.asarray(service_level, dtype=float)
    if np.any(~((sl > 0) & (sl < 1))):
        raise ValueError("service levels must be in (0, 1)")
    d = np.asarray(mean_daily_demand, dtype=float)
    sd = np.asarray(demand_std_daily, dtype=float)
    L = np.asarray(lead_time_days, dtype=float)
    sL = np.asarray(lead_time_std_days, dtype=float)
    per_row = (slice(None), None) if sl.ndim == 2 else slice(None)  # a row's inputs against each of its levels
    ss = safety_stock(standard_normal_quantile(sl), L[per_row], sd[per_row], d[per_row], sL[per_row], review_period_days)
    rop = reorder_point(d[per_row], L[per_row], ss, review_period_days)
    sim = method == SIMULATED
    if demand_samples is not None and sim.any():
        rop_sim, ss_sim = simulated_reorder_point(
            demand_samples[sim], d[sim], L[sim], sL[sim], sl[sim], review_period_days, seed=seed
        )
        # A lumpy series can meet a cycle target with less than its mean
        # lead-time demand (most cycles see little); a negative safety stock
        # reads as a bug to a planner and starves the fill rate, so it is
        # floored at 0 and the reorder point at the mean lead-time demand.
        ss[sim] = np.maximum(ss_sim, 0.0)
        rop[sim] = np.maximum(rop_sim, rop_sim - ss_sim)
    return ss, rop
