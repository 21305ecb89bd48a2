"""What one more point of service costs: carrying cost against service level, per class.

A service target is a business decision, not a formula; the planner needs the
price of each option. For every class the plan's own safety-stock method is
re-run at a ladder of service levels and the stock it implies is valued at
the carrying rate. The curve is convex (z grows ever faster as the level
approaches 1), which is the whole argument for differentiated targets.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

DEFAULT_LEVELS: tuple[float, ...] = (0.80, 0.85, 0.90, 0.93, 0.95, 0.97, 0.98, 0.99, 0.995)
CLASS_COLUMNS = ["abc", "pattern"]


def service_level_tradeoff(
    rows: pd.DataFrame,
    safety_stock_at: Callable[[np.ndarray], np.ndarray],
    annual_carrying_rate: float,
    levels: Sequence[float] = DEFAULT_LEVELS,
) -> pd.DataFrame:
    """One row per class (abc, pattern) x service level.

    Args:
        rows: the plan's SKU x node rows with abc, pattern, unit_cost_eur and
            target_service_level (the class's current target).
        safety_stock_at: given service levels [rows, levels], the safety
            stock [rows, levels] (units) by the plan's method for each row:
            one call for the whole ladder, so a simulated row is simulated once.
        annual_carrying_rate: cost of holding stock for a year as a share of
            its value (per year).
        levels: the service levels to price, each in (0, 1).

    Columns: abc, pattern, service_level, rows, safety_stock_units,
    safety_stock_value_eur, carrying_cost_eur_per_year, extra_cost_per_point_eur
    (carrying cost added per percentage point over the previous level, EUR per
    year; NaN for the first), is_target (the class's current target level,
    added to the ladder when it is not on it).
    """
    missing = [c for c in (*CLASS_COLUMNS, "unit_cost_eur", "target_service_level") if c not in rows.columns]
    if missing:
        raise ValueError(f"tradeoff rows are missing columns {missing}")
    bad = [x for x in levels if not 0.0 < x < 1.0]
    if bad:
        raise ValueError(f"service levels must be in (0, 1), got {bad}")
    targets = rows["target_service_level"].to_numpy(dtype=float)
    ladder = sorted(set(float(x) for x in levels) | set(np.unique(targets).tolist()))
    cost = rows["unit_cost_eur"].to_numpy(dtype=float)
    all_ss = np.asarray(safety_stock_at(np.tile(np.asarray(ladder, dtype=float), (len(rows), 1))), dtype=float)
    out = []
    for column, level in enumerate(ladder):
        ss = all_ss[:, column]
        frame = rows[CLASS_COLUMNS].assign(ss=ss, value=ss * cost, on_target=np.isclose(targets, level))
        g = frame.groupby(CLASS_COLUMNS, sort=True).agg(
            rows=("ss", "size"), safety_stock_units=("ss", "sum"), safety_stock_value_eur=("value", "sum"),
            is_target=("on_target", "all"),
        )
        out.append(g.reset_index().assign(service_level=level))
    table = pd.concat(out, ignore_index=True).sort_values([*CLASS_COLUMNS, "service_level"], ignore_index=True)
    # levels that are only some other class's target are not this class's options
    on_ladder = table["service_level"].isin([float(x) for x in levels]) | table["is_target"]
    table = table[on_ladder].reset_index(drop=True)
    table["carrying_cost_eur_per_year"] = table["safety_stock_value_eur"] * annual_carrying_rate
    step_cost = table.groupby(CLASS_COLUMNS)["carrying_cost_eur_per_year"].diff()
    step_points = table.groupby(CLASS_COLUMNS)["service_level"].diff() * 100.0
    table["extra_cost_per_point_eur"] = step_cost / step_points
    return table[
        [*CLASS_COLUMNS, "service_level", "rows", "safety_stock_units", "safety_stock_value_eur",
         "carrying_cost_eur_per_year", "extra_cost_per_point_eur", "is_target"]
    ]
