"""The re-plan under a scenario: `build_inventory_plan` with node lead-time delays, and its daily closing stock.

Lead times are one row per SKU, so a node's delay is planned by a second
plan with longer lead times whose rows for that node are kept; the closing
stock per day is what stock-outs and shortfalls are read from.
"""
from __future__ import annotations

import pandas as pd

from planning.demand import node_daily_forecast
from planning.inventory_plan import build_inventory_plan
from planning.projection import project_inventory
from planning.scenario_inputs import PlanInputs
from planning.scenario_shocks import _add_lead_time

KEY = ["sku", "node"]


def _plan(inputs: PlanInputs, lead_times: pd.DataFrame) -> pd.DataFrame:
    return build_inventory_plan(
        forecast=inputs.forecast,
        on_hand=inputs.on_hand,
        open_orders=inputs.open_orders,
        lead_times=lead_times,
        skus=inputs.skus,
        market_nodes=inputs.market_nodes,
        as_of=inputs.as_of,
        policy=inputs.policy,
        classes=inputs.classes,
        demand_history=inputs.demand_history,
        arrivals=inputs.arrivals.loc[:, ["sku", "node", "expected_arrival_date", "quantity"]],
        seed=inputs.seed,
        stock_unknown_nodes=inputs.stock_unknown_nodes,
    )


def run_plan(inputs: PlanInputs) -> pd.DataFrame:
    """`build_inventory_plan` on these inputs, with the node lead-time delays applied.

    Lead times are one row per SKU, so a node-specific delay cannot be passed
    in directly: the rows of delayed nodes come from a second plan on the same
    inputs with every lead time N days longer (same rows, same horizon, only
    L differs), one extra plan per distinct delay.
    """
    plan = _plan(inputs, inputs.lead_times)
    by_delay: dict[int, list[str]] = {}
    for node, days in inputs.node_extra_lead_time_days.items():
        if days > 0:
            by_delay.setdefault(days, []).append(node)
    for days, nodes in sorted(by_delay.items()):
        delayed = _plan(inputs, _add_lead_time(inputs.lead_times, float(days)))
        if not delayed[KEY].equals(plan[KEY]):  # same inputs but L: the rows must be the same
            raise RuntimeError(f"the plan with lead times +{days} d has other rows than the plan")
        mask = plan["node"].isin(nodes)
        plan = pd.concat([plan.loc[~mask], delayed.loc[mask]]).sort_index()
    return plan


def _closing(inputs: PlanInputs, plan: pd.DataFrame) -> pd.DataFrame:
    """Closing stock per plan row (index sku, node) and projection day (columns 1..H), as the plan projects it."""
    node_fc = node_daily_forecast(inputs.forecast, inputs.market_nodes, inputs.as_of)
    if node_fc.horizon_days < 1:
        raise ValueError(f"forecast has no dates on or after as_of={inputs.as_of}: nothing to project a scenario on")
    H = node_fc.horizon_days
    proj = project_inventory(
        plan[["sku", "node", "on_hand"]],
        inputs.arrivals.loc[:, ["sku", "node", "expected_arrival_date", "quantity"]],
        node_fc.daily,
        inputs.as_of,
        H,
    )
    closing = proj.daily["closing_on_hand"].to_numpy(dtype=float).reshape(len(proj.summary), H)
    frame = pd.DataFrame(closing, index=pd.MultiIndex.from_frame(proj.summary[KEY]), columns=range(1, H + 1))
    return frame.reindex(pd.MultiIndex.from_frame(plan[KEY]))
