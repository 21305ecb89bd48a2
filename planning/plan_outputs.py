"""The tables published beside the inventory plan, derived from it.

Kept out of `build_inventory_plan` so the plan stays one row per SKU x node:
the day-by-day projection is SKU x node x day, the trade-off is class x
service level. Both reuse the plan's own numbers (its safety stock, d̄, σ,
lead times and method per row), so they cannot disagree with it.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pandas as pd

from crossdock.bulk_days import RegularSales
from planning.demand import node_daily_forecast, node_demand_samples
from planning.projection import project_inventory
from planning.stock_policy import stock_targets
from planning.tradeoff import DEFAULT_LEVELS, service_level_tradeoff


@dataclass(frozen=True)
class PlanOutputs:
    """What one run of the plan publishes (`planning.run.build_plan`), and what it had to leave out.

    The five tables are as staged (each carries the plan date, as_of),
    so the caller writes them without touching them; `not_planned` and
    `stock_unknown_nodes` are there for the run to say what it did not plan.

    Attributes:
        as_of: the plan date.
        plan: one row per SKU x node (`build_inventory_plan`, transfers applied).
        projection: SKU x node x day, for the nodes whose stock is known.
        tradeoff: class x service level.
        classes: SKU x market service classes.
        transfers: transfer options, recommended or not.
        not_planned: SKUs held in stock or on order with no terms to plan them with.
        stock_unknown_nodes: nodes no inventory snapshot speaks for.
        held_back_pairs: SKU x node rows whose demand a market the training-data gate held back belongs to.
    """

    as_of: dt.date
    plan: pd.DataFrame
    projection: pd.DataFrame
    tradeoff: pd.DataFrame
    classes: pd.DataFrame
    transfers: pd.DataFrame
    not_planned: tuple[str, ...] = ()
    stock_unknown_nodes: frozenset[str] = frozenset()
    held_back_pairs: frozenset[tuple[str, str]] = frozenset()

    def tables(self) -> dict[str, pd.DataFrame]:
        """The published tables by name (crossdock.published), in the order they are staged."""
        return {
            "inventory_plan": self.plan,
            "inventory_projection": self.projection,
            "service_level_tradeoff": self.tradeoff,
            "service_classes": self.classes,
            "transfer_recommendations": self.transfers,
        }


def plan_projection(
    plan: pd.DataFrame, forecast: pd.DataFrame, market_nodes: pd.DataFrame, arrivals: pd.DataFrame, as_of: dt.date
) -> pd.DataFrame:
    """Daily projected stock for the plan's SKU x node rows (see `planning.projection`), with its safety stock."""
    node_fc = node_daily_forecast(forecast, market_nodes, as_of)
    keys = plan[["sku", "node"]]
    daily = node_fc.daily.merge(keys, on=["sku", "node"])
    lines = arrivals.merge(keys, on=["sku", "node"])
    projection = project_inventory(
        plan[["sku", "node", "on_hand"]], lines, daily, as_of, max(node_fc.horizon_days, 1),
        safety_stock=plan[["sku", "node", "safety_stock"]],
    ).daily
    return projection.merge(plan[["sku", "node", "safety_stock", "reorder_point"]], on=["sku", "node"], how="left")


def plan_tradeoff(
    plan: pd.DataFrame,
    demand_history: pd.DataFrame | RegularSales | None,
    market_nodes: pd.DataFrame,
    as_of: dt.date,
    review_period_days: float,
    annual_carrying_rate: float,
    seed: int = 7,
    levels: tuple[float, ...] = DEFAULT_LEVELS,
) -> pd.DataFrame:
    """Carrying cost per class at each service level, priced by each row's own method."""
    samples = (
        node_demand_samples(demand_history, market_nodes, plan[["sku", "node"]], as_of)
        if demand_history is not None
        else None
    )
    rows = plan.assign(
        abc=plan["abc"].fillna("unclassified"),
        pattern=plan["pattern"].fillna("unclassified"),
        target_service_level=plan["service_level"],
    )

    def safety_stock_at(levels_per_row):
        ss, _ = stock_targets(
            rows["ss_method"].to_numpy(), levels_per_row, rows["mean_daily_demand"].to_numpy(),
            rows["demand_std_daily"].to_numpy(), rows["lead_time_days"].to_numpy(),
            rows["lead_time_std_days"].to_numpy(), review_period_days, samples, seed,
        )
        return ss

    return service_level_tradeoff(rows, safety_stock_at, annual_carrying_rate, levels)
