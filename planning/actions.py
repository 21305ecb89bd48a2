"""The one-word verdict a planner filters the plan on.

Rules are evaluated in priority order and the first that holds wins:

1. 'expedite or transfer': the stock projection (open purchase orders on
   their expected day included) runs out before a purchase placed today
   could arrive (fewer days to the stock-out than the lead time). Ordering
   cannot save those days; only a faster route or stock from another node can.
2. 'reorder now': inventory position <= reorder point and an order is
   recommended (the position is already inside the lead-time + safety band).
3. 'no demand — review stock': d̄ = 0 over the lead time but stock on hand
   (dead or slow stock to sell off, move or write down).
4. 'reorder soon': the order-by date is within `reorder_soon_days` of as_of.
5. 'excess': on-hand cover above `excess_cover_days` and more stock on hand
   than the policy itself would ever hold (its order-up-to level, ROP + Q).
6. 'long cover: order size': cover above `excess_cover_days`, but no more
   than the order-up-to level: one order of the policy's own size (EOQ,
   raised to the supplier's MOQ and whole packs) outlasts the cover limit.
   Nothing to sell off; the order size (MOQ, pack, listing) is what to review.
7. 'ok'.

'expedite or transfer' comes first because the other verdicts read the
inventory position, which counts stock on order as if it were on the shelf:
a row with nothing on hand, a stock-out tomorrow and a purchase order 80
days out was 'ok' by the position while its own projection ran dry. Its
recommended order quantity still stands: the order covers what follows.
'excess' is split from 'long cover' because on the demo 488 of the 494 rows
over 180 days of cover held no more than one order quantity plus safety
stock: a SKU selling 0.15 a day whose supplier's minimum order is 162 units
buys three years at once, and calling that excess named a cause no stock
move can fix.
'reorder now' outranks 'no demand' because a SKU with no expected demand
over its lead time (d̄ = 0) can still carry a safety stock (p90 > 0), and an
order the maths asks for should not be hidden behind a softer label.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from crossdock.plan_labels import EXCESS, EXPEDITE

REORDER_NOW = "reorder now"
REORDER_SOON = "reorder soon"
OK = "ok"
LONG_COVER = "long cover: order size"
NO_DEMAND = "no demand — review stock"

ACTIONS: tuple[str, ...] = (EXPEDITE, REORDER_NOW, REORDER_SOON, OK, EXCESS, LONG_COVER, NO_DEMAND)


def classify_action(
    reorder_now: ArrayLike,
    mean_daily_demand: ArrayLike,
    on_hand: ArrayLike,
    order_by: pd.DatetimeIndex | pd.Series,
    days_of_cover: ArrayLike,
    as_of: dt.date,
    reorder_soon_days: int,
    excess_cover_days: float,
    projected_stockout: pd.DatetimeIndex | pd.Series,
    lead_time_days: ArrayLike,
    order_up_to: ArrayLike,
) -> NDArray[np.object_]:
    """Action per row, by the priority rules in the module docstring.

    Args:
        reorder_now: bool, an order is due today.
        mean_daily_demand: d̄, units/day.
        on_hand: units on hand.
        order_by: order-by dates (NaT = none).
        days_of_cover: on_hand / d̄, days (NaN = undefined).
        as_of: plan date.
        reorder_soon_days: window (days) for 'reorder soon'.
        excess_cover_days: cover (days) above which stock is 'excess'.
        projected_stockout: the day the projected stock runs out (NaT = not
            within the forecast horizon), for rule 1.
        lead_time_days: days from ordering to arrival, per row.
        order_up_to: the policy's order-up-to level S = ROP + Q, units: the
            most it holds right after an order lands (rules 5 and 6).
    """
    now = np.asarray(reorder_now, dtype=bool)
    d = np.asarray(mean_daily_demand, dtype=float)
    oh = np.asarray(on_hand, dtype=float)
    cover = np.asarray(days_of_cover, dtype=float)
    order_by = pd.DatetimeIndex(order_by)
    soon_limit = pd.Timestamp(as_of).normalize() + pd.Timedelta(days=reorder_soon_days)
    soon = np.asarray(order_by.notna() & (order_by <= soon_limit), dtype=bool)
    long_cover = np.nan_to_num(cover, nan=-np.inf) > excess_cover_days
    excess = long_cover & (oh > np.asarray(order_up_to, dtype=float))
    no_demand = (d == 0) & (oh > 0)
    days_to_stockout = np.asarray((pd.DatetimeIndex(projected_stockout) - pd.Timestamp(as_of).normalize()).days, dtype=float)
    before_supply = np.nan_to_num(days_to_stockout, nan=np.inf) < np.asarray(lead_time_days, dtype=float)  # NaT: never
    return np.select(
        [before_supply, now, no_demand, soon, excess, long_cover],
        [EXPEDITE, REORDER_NOW, NO_DEMAND, REORDER_SOON, EXCESS, LONG_COVER],
        default=OK,
    ).astype(object)
