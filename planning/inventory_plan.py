"""The inventory plan: one row per active SKU × node with policy, position and action.

Builds `publish.inventory_plan` from the forecast, stock, open POs, lead times
and SKU attributes. Pure pandas/numpy; the Dagster asset only loads the inputs
and writes the result. The maths lives in the sibling modules:

- demand over the lead time (`planning.demand`): forecast pooled to the node
  (mean_node = Σ mean_market, σ_node² = Σ σ_market²), d̄ = average of the
  node's daily `mean` (expected units/day) over the first ceil(L) horizon days
  (all of the horizon if L is longer), σ_d = sqrt(average σ_day²),
  σ_day = (p90 - p10) / (2 * 1.2816). d̄ uses `mean`, not p50: the median of
  intermittent, skewed demand sits well below its mean, so summing p50 would
  under-state lead-time demand, cover and order quantities (~43% in backtests);
- lead time (`planning.lead_time`): observed mean/std when >= 3 receipts,
  else quoted with σ_L = 0.25 * quoted;
- service level per row from its class (`planning.service_classes`: ABC by
  revenue x demand pattern, targets in service_levels.yaml), else the policy's;
- by the class's method (`planning.stock_policy`; the default config uses
  "simulated" for every pattern, measured in tests/test_planning_simulation.py):
  simulated: ROP = the target quantile of lead-time demand bootstrapped from
  the node's last 364 days and rescaled to d̄, with the reorder undershoot
  (`planning.lead_time_demand`), SS = ROP - d̄ (L + R) floored at 0;
  normal (and rows without history): SS = z * sqrt((L + R) σ_d² + d̄² σ_L²),
  ROP = d̄ (L + R) + SS (`planning.safety_stock`);
- Q = EOQ = sqrt(2 D K / H), D = 365 d̄, H = unit cost * carrying rate, then
  >= MOQ and rounded up to a pack multiple (`planning.order_quantity`);
- S = ROP + Q; IP = on_hand + on_order; order max(Q, S - IP) (orderable)
  when IP <= ROP;
- cover, stock-out and order-by dates (`planning.cover`; the stock-out date
  from the day-by-day projection with open POs on their expected day when
  arrivals are given, `planning.projection`), excess above the excess cover
  and stock with no demand (obsolete), and action (`planning.actions`).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import numpy as np
import pandas as pd

from crossdock.bulk_days import RegularSales
from crossdock.cost_basis import COST_FROM_CATALOGUE  # skus without a cost_basis column: every term is the catalogue's
from crossdock.plan_labels import DEMAND_FROM_FORECAST, EXCESS, MAX_COVER_DAYS
from planning.actions import LONG_COVER, NO_DEMAND, OK, classify_action
from planning.cover import days_of_cover, order_by_date, projected_stockout_date
from planning.demand import lead_time_demand_stats, lead_time_window_days, node_daily_forecast
from planning.inputs import validate_inputs, validate_sku_coverage
from planning.lead_time import SOURCE_RECEIPTS, resolve_lead_times
from planning.order_quantity import orderable_quantity, order_quantity
from planning.policy import PlanningPolicy
from planning.projection import project_inventory
from planning.safety_stock import protection_interval_demand, standard_normal_quantile
from planning.stock_policy import NORMAL, stock_targets
from planning.demand import node_demand_samples

PLAN_COLUMNS: tuple[str, ...] = (
    "sku",
    "node",
    "category",
    "as_of",
    "on_hand",
    "on_order",
    "inventory_position",
    "mean_daily_demand",
    "demand_std_daily",
    "lead_time_days",
    "lead_time_std_days",
    "lead_time_source",
    "abc",
    "pattern",
    "ss_method",
    "service_level",
    "z",
    "lead_time_demand",
    "safety_stock",
    "reorder_point",
    "order_quantity",
    "order_up_to",
    "recommended_order_qty",
    "order_by_date",
    "days_of_cover",
    "projected_stockout_date",
    "below_safety_stock_date",
    "unit_cost_eur",
    "cost_basis",
    "safety_stock_value_eur",
    "carrying_cost_eur_per_year",
    "excess_units",
    "excess_value_eur",
    "obsolete_units",
    "stock_basis",
    "demand_basis",
    "action",
)
"""Output columns, in order. Units: quantities in units, demand in units/day,
lead times and cover in days, money in EUR; dates are datetime64 (midnight)."""


def _stock_positions(on_hand: pd.DataFrame, open_orders: pd.DataFrame) -> pd.DataFrame:
    """sku, node, on_hand, on_order (int64 units); open PO lines are summed per sku × node."""
    oh = on_hand.loc[:, ["sku", "node", "on_hand"]]
    oo = open_orders.groupby(["sku", "node"], as_index=False)["on_order"].sum()
    stock = oh.merge(oo, on=["sku", "node"], how="outer")
    for col in ("on_hand", "on_order"):
        stock[col] = pd.to_numeric(stock[col]).fillna(0).astype("int64")
    return stock


def build_inventory_plan(
    forecast: pd.DataFrame,
    on_hand: pd.DataFrame,
    open_orders: pd.DataFrame,
    lead_times: pd.DataFrame,
    skus: pd.DataFrame,
    market_nodes: pd.DataFrame,
    as_of: dt.date,
    policy: PlanningPolicy = PlanningPolicy(),
    *,
    classes: pd.DataFrame | None = None,
    demand_history: pd.DataFrame | RegularSales | None = None,
    arrivals: pd.DataFrame | None = None,
    seed: int = 7,
    stock_unknown_nodes: Iterable[str] = (),
) -> pd.DataFrame:
    """Inventory plan per active SKU × node, sorted by (sku, node).

    Args:
        forecast: sku, market, forecast_date, p10, p50, p90, mean
            (units/day per market; `mean` is the expected units, required,
            non-null, >= 0, and is what d̄ is built from; p10/p90 give σ;
            p50 is checked but not used). Dates before `as_of` are ignored;
            the horizon runs from the first remaining date to the last.
        on_hand: sku, node, on_hand (units, latest snapshot; one row per key).
        open_orders: sku, node, on_order (units on open POs to the node;
            several rows per key are summed).
        lead_times: sku, n_receipts, lead_time_mean_days, lead_time_std_days,
            quoted_lead_time_days (days; one row per SKU, primary supplier).
        skus: sku, category, unit_cost_eur (EUR/unit), moq (units),
            pack_size (units), and optionally cost_basis (where those terms
            come from; 'catalogue' when absent), carried to the plan.
        market_nodes: market, node (which node ships to which market).
        as_of: the plan date; order-by and stock-out dates count from it.
        policy: service level, costs, review period and thresholds.
        classes: optional sku, node, abc, pattern, target_service_level,
            ss_method (`planning.service_classes.node_targets`); rows without
            a class use policy.service_level and the normal method.
        demand_history: optional marts.fct_daily_demand rows (sku, market,
            demand_date, units_sold), or sales capped once for the plan
            (`crossdock.bulk_days.RegularSales`), for the simulated method;
            without it every row uses the normal formula.
        arrivals: optional open PO lines (sku, node, expected_arrival_date,
            quantity) for the day-by-day projection's stock-out and
            below-safety-stock dates; without them the stock-out date is
            on_hand / d̄ and below_safety_stock_date is null.
        seed: for the simulated safety stock.
        stock_unknown_nodes: nodes no inventory snapshot has ever come
            from. Their stock is unknown, not zero: their rows keep the
            targets (safety stock, reorder point, order quantity, order-up-to)
            but on hand, position, recommended order, cover, stock-out and
            excess are null, and the action says there is no stock data.

    A SKU × node is active when its node forecast has any demand (mean or
    p90 > 0 on some horizon day), or on_hand > 0, or on_order > 0. Columns are
    `PLAN_COLUMNS`. Raises ValueError when an active SKU is missing from
    `skus` or `lead_times` (naming the SKUs), when a forecast market has no
    node, when the forecast has no `mean` column, and on malformed inputs
    (see `planning.inputs`).
    """
    validate_inputs(forecast, on_hand, open_orders, lead_times, skus, market_nodes)
    as_of_ts = pd.Timestamp(as_of).normalize()

    node_fc = node_daily_forecast(forecast, market_nodes, as_of)
    daily = node_fc.daily
    with_demand = daily.loc[(daily["mean"] > 0) | (daily["p90"] > 0), ["sku", "node"]].drop_duplicates()

    stock = _stock_positions(on_hand, open_orders)
    plan = stock.merge(with_demand.assign(_has_demand=True), on=["sku", "node"], how="outer")
    for col in ("on_hand", "on_order"):
        plan[col] = plan[col].fillna(0).astype("int64")
    active = plan["_has_demand"].notna() | (plan["on_hand"] > 0) | (plan["on_order"] > 0)
    plan = plan.loc[active, ["sku", "node", "on_hand", "on_order"]]

    validate_sku_coverage(plan["sku"].unique(), skus, lead_times)
    sku_terms = skus if "cost_basis" in skus.columns else skus.assign(cost_basis=COST_FROM_CATALOGUE)
    plan = plan.merge(
        sku_terms.loc[:, ["sku", "category", "unit_cost_eur", "moq", "pack_size", "cost_basis"]], on="sku", how="left"
    )
    plan = plan.merge(resolve_lead_times(lead_times), on="sku", how="left")
    if "lead_time_basis" in lead_times.columns:  # no supplier data: a configured default, said so
        basis = plan["sku"].map(lead_times.drop_duplicates("sku").set_index("sku")["lead_time_basis"])
        # a SKU only purchase orders describe plans with the default as its quote until it has enough receipts
        assumed = (basis == "assumed") | ((basis == "purchase orders") & (plan["lead_time_source"] != SOURCE_RECEIPTS))
        plan.loc[assumed, "lead_time_source"] = LEAD_TIME_ASSUMED
    plan = plan.sort_values(["sku", "node"], kind="mergesort").reset_index(drop=True)

    plan["window_days"] = lead_time_window_days(plan["lead_time_days"], node_fc.horizon_days)
    stats = lead_time_demand_stats(node_fc, plan[["sku", "node", "window_days"]])
    plan["mean_daily_demand"] = stats["mean_daily_demand"].to_numpy()
    plan["demand_std_daily"] = stats["demand_std_daily"].to_numpy()

    R = policy.review_period_days
    if classes is not None:
        plan = plan.merge(
            classes.loc[:, ["sku", "node", "abc", "pattern", "target_service_level", "ss_method"]],
            on=["sku", "node"], how="left",
        )
    else:
        plan = plan.assign(abc=None, pattern=None, target_service_level=np.nan, ss_method=None)
    plan["target_service_level"] = plan["target_service_level"].fillna(policy.service_level)
    plan["ss_method"] = plan["ss_method"].fillna(NORMAL)
    if demand_history is None:
        plan["ss_method"] = NORMAL
    service = plan["target_service_level"].to_numpy(dtype=float)
    d = plan["mean_daily_demand"].to_numpy(dtype=float)
    sd = plan["demand_std_daily"].to_numpy(dtype=float)
    L = plan["lead_time_days"].to_numpy(dtype=float)
    sL = plan["lead_time_std_days"].to_numpy(dtype=float)
    unit_cost = plan["unit_cost_eur"].to_numpy(dtype=float)
    moq = plan["moq"].to_numpy(dtype=float)
    pack = plan["pack_size"].to_numpy(dtype=float)
    on_hand_units = plan["on_hand"].to_numpy(dtype=float)

    samples = (
        node_demand_samples(demand_history, market_nodes, plan[["sku", "node"]], as_of)
        if demand_history is not None
        else None
    )
    ss, rop = stock_targets(plan["ss_method"].to_numpy(), service, d, sd, L, sL, R, samples, seed)
    q = order_quantity(d, unit_cost, moq, pack, policy.order_cost_eur, policy.annual_carrying_rate)
    up_to = rop + q
    ip = (plan["on_hand"] + plan["on_order"]).to_numpy(dtype="int64")
    # S > IP guards the degenerate no-demand, no-spread case (ROP = S = 0 = IP).
    reorder_now = (ip <= rop) & (up_to > ip)
    recommended = np.where(reorder_now, orderable_quantity(np.maximum(q, up_to - ip), moq, pack), 0)
    holding = unit_cost * policy.annual_carrying_rate

    cover = days_of_cover(on_hand_units, d)
    order_by = order_by_date(ip, rop, d, as_of, reorder_now)
    if arrivals is not None and node_fc.horizon_days > 0:
        projected = project_inventory(
            plan[["sku", "node", "on_hand"]], arrivals, daily, as_of, node_fc.horizon_days,
            safety_stock=plan[["sku", "node"]].assign(safety_stock=ss),
        ).summary
        keyed = projected.set_index(["sku", "node"]).reindex(pd.MultiIndex.from_frame(plan[["sku", "node"]]))
        stockout = pd.DatetimeIndex(keyed["projected_stockout_date"])
        below_ss = pd.DatetimeIndex(keyed["below_safety_stock_date"])
    else:
        stockout = projected_stockout_date(on_hand_units, d, as_of, node_fc.horizon_end)
        below_ss = pd.DatetimeIndex(np.full(len(plan), np.datetime64("NaT"), dtype="datetime64[ns]"))
    # stock with no demand at all is obsolete, not excess: counted once
    obsolete = np.where((d == 0) & (on_hand_units > 0), on_hand_units, 0.0)
    excess = np.where(d > 0, np.clip(on_hand_units - (d * policy.excess_cover_days + ss), 0.0, None), 0.0)

    out = pd.DataFrame(
        {
            "sku": plan["sku"],
            "node": plan["node"],
            "category": plan["category"],
            "as_of": as_of_ts,
            "on_hand": plan["on_hand"],
            "on_order": plan["on_order"],
            "inventory_position": ip,
            "mean_daily_demand": d,
            "demand_std_daily": sd,
            "lead_time_days": L,
            "lead_time_std_days": sL,
            "lead_time_source": plan["lead_time_source"],
            "abc": plan["abc"],
            "pattern": plan["pattern"],
            "ss_method": plan["ss_method"],
            "service_level": service,
            "z": standard_normal_quantile(service),
            "lead_time_demand": protection_interval_demand(d, L, R),
            "safety_stock": ss,
            "reorder_point": rop,
            "order_quantity": q.astype("int64"),
            "order_up_to": up_to,
            "recommended_order_qty": recommended.astype("int64"),
            "order_by_date": order_by,
            "days_of_cover": np.minimum(cover, MAX_COVER_DAYS),  # NaN (no demand) stays NaN
            "projected_stockout_date": stockout,
            "below_safety_stock_date": below_ss,
            "unit_cost_eur": unit_cost,
            "cost_basis": plan["cost_basis"],
            "safety_stock_value_eur": ss * unit_cost,
            "carrying_cost_eur_per_year": (ss + q / 2.0) * holding,
            "excess_units": excess,
            "excess_value_eur": excess * unit_cost,
            "obsolete_units": obsolete,
            "action": classify_action(
                reorder_now, d, on_hand_units, order_by, cover, as_of,
                policy.reorder_soon_days, policy.excess_cover_days,
                projected_stockout=stockout, lead_time_days=L, order_up_to=up_to,
            ),
        }
    )
    out["as_of"] = out["as_of"].astype("datetime64[ns]")
    out["demand_basis"] = DEMAND_FROM_FORECAST  # `without_held_back_demand` says where it is partly or wholly unknown
    out = _without_unknown_stock(out, set(stock_unknown_nodes))
    return out.loc[:, list(PLAN_COLUMNS)]


LEAD_TIME_ASSUMED = "assumed default"
NO_STOCK_DATA = "no stock data: targets only"
STOCK_FROM_SNAPSHOT = "inventory snapshot"
STOCK_UNKNOWN = "unknown: no inventory feed for this node"
# what cannot be said without knowing the stock: nulled, never computed from an invented zero
STOCK_DEPENDENT = (
    "on_hand", "inventory_position", "recommended_order_qty", "days_of_cover", "excess_units", "excess_value_eur",
    "obsolete_units",
)
STOCK_DEPENDENT_DATES = ("order_by_date", "projected_stockout_date", "below_safety_stock_date")


def _without_unknown_stock(plan: pd.DataFrame, unknown_nodes: set[str]) -> pd.DataFrame:
    """Rows at nodes without stock data keep their targets; every stock-derived figure becomes null."""
    unknown = plan["node"].isin(unknown_nodes).to_numpy()
    plan = plan.assign(stock_basis=np.where(unknown, STOCK_UNKNOWN, STOCK_FROM_SNAPSHOT))
    if not unknown.any():
        return plan
    for col in ("on_hand", "inventory_position", "recommended_order_qty"):  # whole units, now with nulls
        plan[col] = plan[col].astype("Int64")
    for col in STOCK_DEPENDENT:
        plan.loc[unknown, col] = pd.NA if str(plan[col].dtype) == "Int64" else np.nan
    for col in STOCK_DEPENDENT_DATES:
        plan.loc[unknown, col] = pd.NaT
    plan.loc[unknown, "action"] = NO_STOCK_DATA
    return plan


MARKET_HELD_BACK = "market held back: no forecast for part of its demand"
MARKET_HELD_BACK_ALL = "market held back: no forecast for its demand"
DEMAND_PARTLY_UNKNOWN = "partly unknown: a market the training-data gate held back sells this SKU here"
DEMAND_UNKNOWN = "unknown: the training-data gate held back every market that sells this SKU here"
# what a row's demand must be whole to say: a verdict that its stock is idle (excess, none needed, enough)
_IDLE_VERDICTS = (EXCESS, LONG_COVER, NO_DEMAND, OK)


def held_back_rows(plan: pd.DataFrame, pairs: Iterable[tuple[str, str]]) -> np.ndarray:
    """Which of the plan's rows are the SKU x node `pairs` (bool per row)."""
    keys = pd.MultiIndex.from_frame(plan[["sku", "node"]])
    return keys.isin(list(pairs)) if len(plan) else np.zeros(0, dtype=bool)


def without_held_back_demand(
    plan: pd.DataFrame, pairs: Iterable[tuple[str, str]], forecast_pairs: Iterable[tuple[str, str]] = (),
) -> pd.DataFrame:
    """Rows whose SKU sold lately in a market the training-data gate held back, at that market's node: that
    market is not in the forecast, so the row's demand is unknown, not zero. Its excess and obsolete
    stock are unknown (null: never offered to another node as idle), and a verdict that its stock is idle
    becomes `MARKET_HELD_BACK`; a need the known demand already shows (expedite, reorder) stands, as the
    least the row needs. `demand_basis` says how much of the demand it was planned on is known: partly, where
    the forecast has the SKU at that node from another market (`forecast_pairs`: SKU x node), not at all
    where it has none. The node's other SKUs, sold in markets that were forecast, keep their plan."""
    held = held_back_rows(plan, pairs)
    if not held.any():
        return plan
    plan = plan.copy()
    partly = held & held_back_rows(plan, forecast_pairs)
    wholly = held & ~partly
    plan.loc[partly, "demand_basis"] = DEMAND_PARTLY_UNKNOWN
    plan.loc[wholly, "demand_basis"] = DEMAND_UNKNOWN
    for col in ("excess_units", "excess_value_eur", "obsolete_units"):
        plan.loc[held, col] = np.nan
    idle = plan["action"].isin(_IDLE_VERDICTS).to_numpy()
    plan.loc[partly & idle, "action"] = MARKET_HELD_BACK
    plan.loc[wholly & idle, "action"] = MARKET_HELD_BACK_ALL
    return plan
