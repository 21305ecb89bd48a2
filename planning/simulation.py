"""Day-by-day inventory simulation, to check that a policy delivers its service level.

A reorder point is a claim: "ordering when the position reaches s leaves a
stock-out in only 1 - CSL of replenishment cycles". The formulas behind it
rest on assumptions (normal lead-time demand, the position sitting exactly at
s when the order goes out); replaying demand and lead times day by day and
counting the cycles that actually ran short checks the claim without them.

Also here: a generator of synthetic daily demand for the four
Syntetos-Boylan patterns, and the ADI / CV² statistics that classify a series,
so the check can be run per demand class.

Units: demand and stock in units, time in whole days.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

# Syntetos-Boylan-Croston cut-offs and patterns, shared with the service classes and the forecast's backtest
from crossdock.demand_patterns import ADI_CUTOFF, CV2_CUTOFF, PATTERNS, demand_pattern  # noqa: F401 (re-exported)

# Per pattern: probability that a day has demand, and the squared coefficient
# of variation of the size of a non-zero day. Chosen well inside their SBC
# quadrant (ADI = 1 / p against 1.32, CV² against 0.49) so a year-long sample
# lands there despite sampling noise. Smooth and intermittent sizes are
# 1 + Poisson, whose CV² = (m - 1) / m² is at most 0.25 whatever the mean;
# the CV² below is then only what the Poisson gives, not a target.
_PATTERN_PARAMS: dict[str, tuple[float, float | None]] = {
    "smooth": (1.0, None),
    "erratic": (1.0, 1.0),
    "intermittent": (0.3, None),
    "lumpy": (0.2, 1.0),
}


@dataclass(frozen=True)
class SimulationResult:
    """What a simulated policy achieved, over the cycles and days after the warm-up.

    Attributes:
        cycle_service_level: share of counted replenishment cycles without a
            stock-out (see `simulate_policy`); NaN when no cycle was counted.
        fill_rate: units served from stock on the day they were demanded /
            units demanded, over days after the warm-up; NaN without demand.
        cycles: replenishment cycles counted (placed after the warm-up and
            received within the horizon).
        stockout_cycles: of those, cycles with a stock-out.
        average_on_hand: mean end-of-day physical stock max(net inventory, 0)
            over days after the warm-up, units.
        orders: orders placed after the warm-up (received or not).
    """

    cycle_service_level: float
    fill_rate: float
    cycles: int
    stockout_cycles: int
    average_on_hand: float
    orders: int


def simulate_policy(
    demand: ArrayLike,
    lead_times: ArrayLike,
    reorder_point: float,
    order_quantity: float,
    review_period_days: int = 1,
    initial_on_hand: float | None = None,
    warmup: int = 60,
) -> SimulationResult:
    """Replay daily demand against an (s, nQ) or (R, s, nQ) policy with backorders.

    Args:
        demand: [days] daily demand, units (>= 0).
        lead_times: [n] lead time of each successive order, whole days >= 1,
            consumed in order (the i-th order placed waits lead_times[i]).
            Raises ValueError if the policy places more orders than given.
        reorder_point: s, units of inventory position.
        order_quantity: Q, units (> 0).
        review_period_days: R, days between reviews; 1 = review every day
            (continuous review in daily buckets), R > 1 = periodic review on
            days 0, R, 2R, ...
        initial_on_hand: starting stock, units; default s + Q (a position
            just replenished), nothing on order.
        warmup: cycles placed on days < warmup, and the fill rate and stock
            of those days, are discarded so the arbitrary start does not
            count.

    Each day t, in this order:

    1. demand d_t is taken from net inventory (on hand minus backorders);
       what stock on hand cannot cover is backordered, not lost — the
       standard assumption behind the cycle service level, and what keeps
       the inventory position a sum of demand;
    2. orders due on day t are received (at the end of the day, after its
       demand: an order with lead time L is exposed to exactly L days of
       demand, t + 1 .. t + L, matching ROP = quantile of L-day demand);
    3. on a review day, if the inventory position (net inventory + on order)
       is <= s, the smallest number n >= 1 of Q is ordered that brings it
       above s; it arrives at the end of day t + L.

    Replenishment cycle and cycle service level: the cycle of an order placed
    at the end of day t with lead time L runs over its protection interval,
    days t + 1 .. t + L, and ends with its receipt. It has a stock-out when
    net inventory just before the receipt — after day t + L's demand, before
    that day's receipts — is below zero, i.e. demand has been waiting for
    this order. Net inventory only falls between receipts, so with one order
    outstanding this is the same as "below zero on any day of the cycle";
    with several outstanding it charges each shortage to the order that was
    due to end it, rather than to every open order. If orders do not cross,
    net inventory just before the receipt is exactly the position at
    ordering minus the demand over the lead time, so the event is
    {LTD > position at ordering} and, for i.i.d. demand with the position
    exactly at s when the order goes out, CSL = P(LTD <= s): the quantity a
    reorder point set as an LTD quantile promises. Two real effects move the
    simulated CSL away from that: the position at ordering is below s by the
    undershoot of the day that crossed it (see
    `planning.lead_time_demand.undershoot_draws`; zero only when demand
    comes one unit at a time), and with periodic review the position at the
    review before the order was above s. Cycles are counted when placed on
    or after `warmup` and received within the horizon.
    """
    d = np.asarray(demand, dtype=float)
    lt = np.asarray(lead_times)
    if d.ndim != 1:
        raise ValueError(f"demand must be 1-D [days], got shape {d.shape}")
    if np.any(~np.isfinite(d)) or np.any(d < 0):
        raise ValueError("demand must be finite and >= 0")
    if lt.ndim != 1 or np.any(lt < 1) or np.any(lt != np.rint(lt)):
        raise ValueError("lead_times must be a 1-D array of whole days >= 1")
    if not order_quantity > 0:
        raise ValueError(f"order_quantity must be > 0, got {order_quantity!r}")
    if review_period_days < 1 or int(review_period_days) != review_period_days:
        raise ValueError(f"review_period_days must be a whole number >= 1, got {review_period_days!r}")
    if warmup < 0:
        raise ValueError(f"warmup must be >= 0, got {warmup!r}")

    days = d.size
    s = float(reorder_point)
    Q = float(order_quantity)
    R = int(review_period_days)
    lead = [int(v) for v in lt]
    net = float(s + Q) if initial_on_hand is None else float(initial_on_hand)
    on_order = 0.0
    arrivals: dict[int, float] = {}
    placed: list[tuple[int, int]] = []  # (order day, receipt day)
    short = np.zeros(days, dtype=bool)  # net inventory < 0 after demand, before receipts
    on_hand_end = np.zeros(days, dtype=float)
    demanded = served = 0.0

    for t in range(days):
        dt_ = float(d[t])
        served_t = min(dt_, max(net, 0.0))
        net -= dt_
        short[t] = net < 0.0
        if t >= warmup:
            demanded += dt_
            served += served_t
        due = arrivals.pop(t, 0.0)
        if due:
            net += due
            on_order -= due
        on_hand_end[t] = max(net, 0.0)
        if t % R == 0 and net + on_order <= s:
            qty = (math.floor((s - (net + on_order)) / Q) + 1) * Q
            if len(placed) >= len(lead):
                raise ValueError(f"the policy placed more orders than the {len(lead)} lead times given")
            receipt = t + lead[len(placed)]
            placed.append((t, receipt))
            arrivals[receipt] = arrivals.get(receipt, 0.0) + qty
            on_order += qty

    cycles = stockouts = orders = 0
    for start, receipt in placed:
        if start < warmup:
            continue
        orders += 1
        if receipt >= days:
            continue
        cycles += 1
        stockouts += int(short[receipt])

    return SimulationResult(
        cycle_service_level=float((cycles - stockouts) / cycles) if cycles else float("nan"),
        fill_rate=float(served / demanded) if demanded > 0 else float("nan"),
        cycles=cycles,
        stockout_cycles=stockouts,
        average_on_hand=float(on_hand_end[warmup:].mean()) if days > warmup else float("nan"),
        orders=orders,
    )


def generate_demand(
    pattern: str, days: int, rng: np.random.Generator, mean_daily: float = 2.0
) -> NDArray[np.int64]:
    """Synthetic i.i.d. daily demand (whole units) of one Syntetos-Boylan pattern.

    Each day has demand with probability p; a day with demand draws its size
    from a distribution of mean mean_daily / p (so the daily mean is
    `mean_daily`) and at least 1 unit:

    - smooth: p = 1, size 1 + Poisson(mean_daily - 1); CV² of sizes ≤ 0.25.
    - erratic: p = 1, size 1 + negative binomial with size CV² = 1.0.
    - intermittent: p = 0.3 (ADI ≈ 3.3), size 1 + Poisson; CV² ≤ 0.25.
    - lumpy: p = 0.2 (ADI = 5), size 1 + negative binomial with CV² = 1.0.

    Sizes start at 1 because a day with demand sold at least one unit; that
    needs mean_daily > p (ValueError otherwise: e.g. smooth below 1 unit/day
    cannot have demand every day). The negative binomial gives the size
    variance CV² (mean_daily / p)² exactly when that exceeds the shifted
    mean (always for the defaults).
    """
    if pattern not in _PATTERN_PARAMS:
        raise ValueError(f"pattern must be one of {PATTERNS}, got {pattern!r}")
    if days < 0:
        raise ValueError(f"days must be >= 0, got {days!r}")
    p, cv2 = _PATTERN_PARAMS[pattern]
    size_mean = mean_daily / p
    if not size_mean > 1.0:
        raise ValueError(f"{pattern} demand needs mean_daily > {p} (sizes are >= 1 unit), got {mean_daily!r}")
    extra_mean = size_mean - 1.0
    if cv2 is None:
        extra = rng.poisson(extra_mean, size=days)
    else:
        variance = cv2 * size_mean**2
        if not variance > extra_mean:
            raise ValueError(f"{pattern}: size variance {variance:.3g} must exceed {extra_mean:.3g}")
        # numpy's NB(n, prob): mean n (1 - prob) / prob, variance n (1 - prob) / prob².
        prob = extra_mean / variance
        n = extra_mean * prob / (1.0 - prob)
        extra = rng.negative_binomial(n, prob, size=days)
    occurs = rng.random(days) < p if p < 1.0 else np.ones(days, dtype=bool)
    return np.where(occurs, 1 + extra, 0).astype(np.int64)


def demand_pattern_stats(demand: ArrayLike) -> tuple[float, float]:
    """(ADI, CV²) of a daily demand series, the two Syntetos-Boylan statistics.

    ADI is the average interval in days between days with demand, counted as
    days / number of demand days (1.0 when every day has demand; inf with no
    demand). CV² is the squared coefficient of variation (population
    variance / mean²) of the non-zero demand sizes (NaN without any).
    """
    x = np.asarray(demand, dtype=float)
    nz = x[x > 0]
    if nz.size == 0:
        return float("inf"), float("nan")
    adi = x.size / nz.size
    cv2 = float(nz.var() / nz.mean() ** 2)
    return float(adi), cv2


def classify_demand(demand: ArrayLike) -> str:
    """Syntetos-Boylan class: smooth, erratic, intermittent or lumpy.

    ADI < 1.32 means demand most days (smooth or erratic), else intermittent
    or lumpy; CV² < 0.49 means steady sizes (smooth or intermittent), else
    erratic or lumpy. A series with no demand is 'intermittent' by the ADI
    and has no size variation.
    """
    adi, cv2 = demand_pattern_stats(demand)
    return str(demand_pattern(adi, cv2)[()])
